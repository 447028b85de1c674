package deb

import (
	"io"
	"reflect"
	"strings"
	"testing"
)

const sampleControl = `Package: libssl3
Source: openssl
Version: 3.0.11-1~deb12u2
Architecture: amd64
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation.
 .
  verbatim line
`

func TestParseParagraph(t *testing.T) {
	p, err := ParseParagraph([]byte(sampleControl))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Get("package"); got != "libssl3" {
		t.Errorf("Get(package) = %q", got)
	}
	if got := p.Get("VERSION"); got != "3.0.11-1~deb12u2" {
		t.Errorf("Get(VERSION) = %q", got)
	}
	want := "Secure Sockets Layer toolkit - shared libraries\nThis package is part of the OpenSSL project's implementation.\n.\n verbatim line"
	if got, _ := p.Lookup("Description"); got != want {
		t.Errorf("Description = %q, want %q", got, want)
	}
	if _, ok := p.Lookup("Missing"); ok {
		t.Error("Lookup(Missing) found a field")
	}
	out, err := p.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != sampleControl {
		t.Errorf("MarshalText:\n%s\nwant:\n%s", out, sampleControl)
	}
}

func TestParseParagraphsStream(t *testing.T) {
	in := "# comment\n\nPackage: a\r\nVersion: 1\r\n \t \nPackage: b\nSHA256:\n abc 12 main/x\n def 34 main/y\n\n\n"
	ps, err := ParseParagraphs(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("got %d paragraphs, want 2", len(ps))
	}
	want := []Field{{"Package", "a"}, {"Version", "1"}}
	if !reflect.DeepEqual(ps[0].Fields, want) {
		t.Errorf("first = %#v", ps[0].Fields)
	}
	if got := ps[1].Lines("sha256"); !reflect.DeepEqual(got, []string{"abc 12 main/x", "def 34 main/y"}) {
		t.Errorf("Lines = %q", got)
	}
}

func TestParseParagraphErrors(t *testing.T) {
	for name, in := range map[string]string{
		"no colon":        "Package a\n",
		"continuation":    " leading\n",
		"duplicate":       "Package: a\npackage: b\n",
		"bad name":        "Pack age: a\n",
		"dash name":       "-X: a\n",
		"two paragraphs":  "A: 1\n\nB: 2\n",
		"empty paragraph": "\n\n",
	} {
		if _, err := ParseParagraph([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParagraphReaderLine(t *testing.T) {
	pr := NewParagraphReader(strings.NewReader("A: 1\n\nB 2\n"))
	if _, err := pr.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := pr.Next()
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("error %v does not name line 3", err)
	}
	if pr.Line() != 3 {
		t.Errorf("Line() = %d", pr.Line())
	}
	if _, err := NewParagraphReader(strings.NewReader("")).Next(); err != io.EOF {
		t.Errorf("empty input: %v, want io.EOF", err)
	}
}

func TestParagraphSetAndMarshalErrors(t *testing.T) {
	var p Paragraph
	p.Set("Package", "a")
	p.Set("package", "b")
	p.Set("Conffiles", "\n/etc/a\n/etc/b")
	out, err := p.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "Package: b\nConffiles:\n /etc/a\n /etc/b\n" {
		t.Errorf("MarshalText = %q", out)
	}
	for _, bad := range []Paragraph{
		{Fields: []Field{{"A", "x\n\ny"}}},
		{Fields: []Field{{"A:B", "x"}}},
		{Fields: []Field{{"A", "1"}, {"a", "2"}}},
	} {
		if _, err := bad.MarshalText(); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestSplitParagraphs(t *testing.T) {
	data := "Package: a\nVersion: 1\n\n \n# note\nPackage: b\n Description continued\nVersion: 2"
	got := SplitParagraphs([]byte(data))
	want := []string{"Package: a\nVersion: 1\n", "# note\nPackage: b\n Description continued\nVersion: 2\n"}
	if len(got) != len(want) {
		t.Fatalf("got %d paragraphs %q, want %q", len(got), got, want)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("paragraph %d = %q, want %q", i, got[i], want[i])
		}
		if _, err := ParseParagraph(got[i]); err != nil {
			t.Errorf("paragraph %d does not parse: %v", i, err)
		}
	}
}
