package apk_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
)

func TestDepMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dep, version string
		want         bool
	}{
		{"foo", "1.0-r0", true},
		{"foo>=1.2", "1.10-r0", true},
		{"foo>=1.2", "1.1-r9", false},
		{"foo<1.2", "1.1-r9", true},
		{"foo=1.2-r0", "1.2-r0", true},
		{"foo=1.2-r0", "1.2-r1", false},
		{"foo~1.2", "1.2.5-r0", true},
		{"foo~1.2", "1.20-r0", false},
		{"foo>1.2_rc1", "1.2-r0", true},
		{"so:libc.musl-x86_64.so.1", "1.2.5-r9", true},
	}
	for _, tc := range cases {
		d, err := apk.ParseDep(tc.dep)
		if err != nil {
			t.Fatalf("%s: %v", tc.dep, err)
		}
		if got := d.Matches(tc.version); got != tc.want {
			t.Errorf("%s matches %s: %v, want %v", tc.dep, tc.version, got, tc.want)
		}
		if d.String() != strings.Replace(tc.dep, "=~", "~", 1) {
			t.Errorf("String() = %q, want %q", d.String(), tc.dep)
		}
	}
	d, _ := apk.ParseDep("!bar<2")
	if !d.Conflict || d.Name != "bar" || d.Op != "<" || d.Version != "2" {
		t.Errorf("conflict parsed as %+v", d)
	}
	if _, err := apk.ParseDep("foo>>1"); err == nil {
		t.Error("foo>>1 accepted")
	}
}

func TestProvidedBy(t *testing.T) {
	t.Parallel()
	p := &apk.Package{Name: "musl", Version: "1.2.5-r10", Provides: []apk.Dep{{Name: "so:libc.musl-x86_64.so.1", Op: "=", Version: "1"}, {Name: "virtual-libc"}}}
	for dep, want := range map[string]bool{"musl": true, "musl>=1.2.5-r11": false, "so:libc.musl-x86_64.so.1": true, "virtual-libc": true, "virtual-libc>=1": false, "other": false} {
		d, _ := apk.ParseDep(dep)
		if got := d.ProvidedBy(p); got != want {
			t.Errorf("%s provided by musl: %v, want %v", dep, got, want)
		}
	}
}

func TestParseRepositoriesAndMirror(t *testing.T) {
	t.Parallel()
	data := "# main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.22/main\n\nhttps://dl-cdn.alpinelinux.org/alpine/v3.22/community/ # trailing\n@testing https://dl-cdn.alpinelinux.org/alpine/edge/testing\n/media/cdrom/apks\n"
	srcs, skipped, err := apk.ParseRepositories([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []apk.Source{
		{URL: "https://dl-cdn.alpinelinux.org/alpine/v3.22/main"},
		{URL: "https://dl-cdn.alpinelinux.org/alpine/v3.22/community"},
		{URL: "https://dl-cdn.alpinelinux.org/alpine/edge/testing", Tag: "testing"},
	}
	if !slices.Equal(srcs, want) || !slices.Equal(skipped, []string{"/media/cdrom/apks"}) {
		t.Fatalf("sources %v skipped %v", srcs, skipped)
	}
	m := apk.Mirror(srcs, "http://127.0.0.1:9/alpine/", nil)
	if m[0].URL != "http://127.0.0.1:9/alpine/v3.22/main" || m[2].URL != "http://127.0.0.1:9/alpine/edge/testing" || m[2].Tag != "testing" {
		t.Errorf("mirrored %v", m)
	}
	m = apk.Mirror(srcs, "http://all", map[string]string{"https://dl-cdn.alpinelinux.org/alpine/v3.22": "http://m/a"})
	if m[1].URL != "http://m/a/community" || m[2].URL != "http://all/edge/testing" {
		t.Errorf("FROM=TO mirrored %v", m)
	}
	w := apk.Mirror([]apk.Source{{URL: "https://packages.wolfi.dev/os"}}, "http://m/wolfi", nil)
	if w[0].URL != "http://m/wolfi" {
		t.Errorf("wolfi mirrored %v", w)
	}
	for _, tc := range []struct{ id, ver, want string }{
		{"alpine", "3.22.1", "https://dl-cdn.alpinelinux.org/alpine/v3.22/main"},
		{"alpine", "3.23.0_alpha20250612", "https://dl-cdn.alpinelinux.org/alpine/edge/main"},
		{"wolfi", "20230201", "https://packages.wolfi.dev/os"},
	} {
		got, err := apk.DefaultRepositories(tc.id, tc.ver)
		if err != nil || got[0].URL != tc.want {
			t.Errorf("defaults %s %s: %v %v, want %s", tc.id, tc.ver, got, err, tc.want)
		}
	}
	if _, err := apk.DefaultRepositories("alpine", "bogus"); err == nil {
		t.Error("bogus VERSION_ID accepted")
	}
}

func TestInstalledRoundTrip(t *testing.T) {
	t.Parallel()
	b := apkrepo.Build(t, hello)
	other := apkrepo.Build(t, apkrepo.Package{Name: "musl", Version: "1.2.5-r10", Files: []apkrepo.File{{Path: "lib/ld-musl-x86_64.so.1", Body: "elf", Mode: 0o755}}})
	text := b.InstalledRecord() + other.InstalledRecord()
	db, err := apk.ParseInstalled([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(db.Marshal()); got != text {
		t.Errorf("round trip changed the database:\n%s\nwant:\n%s", got, text)
	}
	h := db.Lookup("hello")
	if h == nil || h.Origin != "hello-src" || string(h.Checksum) != b.Checksum {
		t.Fatalf("hello: %+v", h)
	}
	files := h.Files()
	if f := files["usr/bin/hello"]; f == nil || f.ACL != "0:0:755" || !strings.HasPrefix(string(f.Checksum), "Q1") {
		t.Errorf("usr/bin/hello: %+v", f)
	}
	if len(files) != 3 {
		t.Errorf("files %v", files)
	}
	if _, err := apk.ParseInstalled([]byte("P:x\nV:1\nZ:Q1abc\n\n")); err == nil {
		t.Error("Z: before R: accepted")
	}
}
