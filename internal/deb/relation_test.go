package deb

import (
	"reflect"
	"testing"
)

func TestParseRelations(t *testing.T) {
	in := "libc6 (>= 2.34), libssl3 (= 3.0.11-1~deb12u2) | libssl1.1,\n python3:any (<< 3.12~), perl:native,\n foo (> 1:2.0), bar [amd64 !i386] <!nocheck> <stage1 cross>,"
	got, err := ParseRelations(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Alternatives{
		{{Name: "libc6", Op: ">=", Version: "2.34"}},
		{{Name: "libssl3", Op: "=", Version: "3.0.11-1~deb12u2"}, {Name: "libssl1.1"}},
		{{Name: "python3", ArchQualifier: "any", Op: "<<", Version: "3.12~"}},
		{{Name: "perl", ArchQualifier: "native"}},
		{{Name: "foo", Op: ">=", Version: "1:2.0"}},
		{{Name: "bar", Architectures: []string{"amd64", "!i386"}, Profiles: [][]string{{"!nocheck"}, {"stage1", "cross"}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	const formatted = "libc6 (>= 2.34), libssl3 (= 3.0.11-1~deb12u2) | libssl1.1, python3:any (<< 3.12~), perl:native, foo (>= 1:2.0), bar [amd64 !i386] <!nocheck> <stage1 cross>"
	if s := FormatRelations(got); s != formatted {
		t.Errorf("FormatRelations = %q", s)
	}
}

func TestParseRelationsEmpty(t *testing.T) {
	got, err := ParseRelations("  ")
	if err != nil || got != nil {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestParseRelationsErrors(t *testing.T) {
	for _, in := range []string{
		"(>= 1)",
		"foo (>= 1",
		"foo (~= 1)",
		"foo (>=)",
		"foo (>= 1 2)",
		"foo bar",
		"foo:",
		"foo []",
		"foo <>",
		"foo | ",
		"-foo",
		"foo [amd64",
	} {
		if r, err := ParseRelations(in); err == nil {
			t.Errorf("%q: no error, got %v", in, r)
		}
	}
}
