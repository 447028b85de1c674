package deb

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/deb/compression"
)

func sampleSpec(c compression.Format) Spec {
	return Spec{
		Control: Paragraph{Fields: []Field{
			{"Package", "hello"},
			{"Version", "1:2.10-3+deb12u1"},
			{"Architecture", "amd64"},
			{"Maintainer", "Patchloop <dev@example.org>"},
			{"Depends", "libc6 (>= 2.34)"},
			{"Description", "greet\nA friendly program.\n.\nSecond paragraph."},
		}},
		Files: []File{
			{Path: "/usr/bin/hello", Mode: 0o755, Data: []byte("#!/bin/sh\necho hello\n")},
			{Path: "./etc/hello.conf", Data: []byte("greeting=hi\n"), Conffile: true},
			{Path: "usr/share/doc/hello/README", Data: []byte("readme\n")},
			{Path: "usr/bin/hi", Type: TypeSymlink, Linkname: "hello"},
			{Path: "usr/bin/hello-again", Type: TypeHardlink, Linkname: "/usr/bin/hello"},
			{Path: "var/lib/hello", Type: TypeDir, Mode: 0o750 | fs.ModeSetgid, UID: 100, GID: 101, Uname: "hello", Gname: "hello"},
		},
		Scripts: map[string][]byte{
			"postinst": []byte("#!/bin/sh\nexit 0\n"),
			"prerm":    []byte("#!/bin/sh\nexit 0\n"),
		},
		Compression: c,
		ModTime:     time.Unix(1700000000, 0),
	}
}

func buildDeb(t testing.TB, spec Spec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, spec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type readEntry struct {
	Entry
	Data string
}

func readDeb(t testing.TB, data []byte) (*Info, []readEntry) {
	t.Helper()
	ctx := context.Background()
	r, err := NewReader(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []readEntry
	for {
		e, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, readEntry{*e, string(b)})
	}
	return r.Info(), out
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []compression.Format{compression.None, compression.Gzip, compression.XZ, compression.Zstd} {
		name := string(c)
		if name == "" {
			name = "none"
		}
		t.Run(name, func(t *testing.T) {
			data := buildDeb(t, sampleSpec(c))
			if again := buildDeb(t, sampleSpec(c)); !bytes.Equal(data, again) {
				t.Error("two builds of the same spec differ")
			}
			if !bytes.Contains(data, []byte("data.tar"+c.Ext())) {
				t.Errorf("no data.tar%s member", c.Ext())
			}
			info, entries := readDeb(t, data)
			checkInfo(t, info)
			checkEntries(t, entries)
		})
	}
}

func checkInfo(t *testing.T, info *Info) {
	t.Helper()
	if info.Package() != "hello" || info.Version() != "1:2.10-3+deb12u1" || info.Architecture() != "amd64" {
		t.Errorf("identity = %s %s %s", info.Package(), info.Version(), info.Architecture())
	}
	if got, _ := info.Control.Lookup("Description"); got != "greet\nA friendly program.\n.\nSecond paragraph." {
		t.Errorf("Description = %q", got)
	}
	if want := []Conffile{{Path: "etc/hello.conf"}}; !reflect.DeepEqual(info.Conffiles, want) {
		t.Errorf("Conffiles = %+v", info.Conffiles)
	}
	wantSums := []FileSum{
		{"usr/bin/hello", "d604a220708aa59433ba410986cd4ffa"},
		{"usr/bin/hello-again", "d604a220708aa59433ba410986cd4ffa"},
		{"usr/share/doc/hello/README", "c6566f64461986ffe46c913e76644b70"},
	}
	if !reflect.DeepEqual(info.MD5Sums, wantSums) {
		t.Errorf("MD5Sums = %+v, want %+v", info.MD5Sums, wantSums)
	}
	if want := []string{"postinst", "prerm"}; !reflect.DeepEqual(info.Scripts, want) {
		t.Errorf("Scripts = %v", info.Scripts)
	}
	if string(info.Files["postinst"]) != "#!/bin/sh\nexit 0\n" {
		t.Errorf("postinst = %q", info.Files["postinst"])
	}
}

func checkEntries(t *testing.T, entries []readEntry) {
	t.Helper()
	type row struct {
		Path     string
		Type     EntryType
		Mode     fs.FileMode
		Owner    string
		Linkname string
		Data     string
	}
	var got []row
	for _, e := range entries {
		owner := fmt.Sprintf("%s(%d):%s(%d)", e.Uname, e.UID, e.Gname, e.GID)
		got = append(got, row{e.Path, e.Type, e.Mode, owner, e.Linkname, e.Data})
		if !e.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s: ModTime %v", e.Path, e.ModTime)
		}
		if e.Type == TypeRegular && e.Size != int64(len(e.Data)) {
			t.Errorf("%s: Size %d for %d bytes", e.Path, e.Size, len(e.Data))
		}
	}
	want := []row{
		{".", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"etc", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"etc/hello.conf", TypeRegular, 0o644, "root(0):root(0)", "", "greeting=hi\n"},
		{"usr", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"usr/bin", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"usr/bin/hello", TypeRegular, 0o755, "root(0):root(0)", "", "#!/bin/sh\necho hello\n"},
		{"usr/bin/hello-again", TypeHardlink, 0o644, "root(0):root(0)", "usr/bin/hello", ""},
		{"usr/bin/hi", TypeSymlink, 0o777, "root(0):root(0)", "hello", ""},
		{"usr/share", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"usr/share/doc", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"usr/share/doc/hello", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"usr/share/doc/hello/README", TypeRegular, 0o644, "root(0):root(0)", "", "readme\n"},
		{"var", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"var/lib", TypeDir, 0o755, "root(0):root(0)", "", ""},
		{"var/lib/hello", TypeDir, 0o750 | fs.ModeSetgid, "hello(100):hello(101)", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n got %+v\nwant %+v", got, want)
	}
}

// rawDeb assembles a package from raw members, for inputs Write refuses to
// produce.
func rawDeb(t testing.TB, members ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	aw := newArWriter(&buf, time.Unix(0, 0))
	for _, m := range members {
		if err := aw.WriteMember(m[0], []byte(m[1])); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func rawTar(t testing.TB, headers ...*tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range headers {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(make([]byte, h.Size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func minimalControl(t testing.TB) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := "Package: x\nVersion: 1\nArchitecture: all\n"
	if err := tw.WriteHeader(&tar.Header{Name: "./control", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(tw, body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPathTraversalRejected(t *testing.T) {
	cases := map[string]*tar.Header{
		"dotdot":         {Name: "./../etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644},
		"absolute dots":  {Name: "/usr/../../etc/shadow", Typeflag: tar.TypeReg, Mode: 0o644},
		"inner dotdot":   {Name: "./usr/lib/../../../root/.ssh", Typeflag: tar.TypeDir, Mode: 0o755},
		"hardlink climb": {Name: "./usr/bin/x", Linkname: "../../etc/shadow", Typeflag: tar.TypeLink, Mode: 0o644},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			data := rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar", minimalControl(t)},
				[2]string{"data.tar", rawTar(t, &tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}, h)})
			ctx := context.Background()
			r, err := NewReader(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if e, err := r.Next(ctx); err != nil || e.Path != "." {
				t.Fatalf("first entry %+v, %v", e, err)
			}
			e, err := r.Next(ctx)
			if err == nil || !strings.Contains(err.Error(), "escapes the root") {
				t.Fatalf("got %+v, %v; want escape error", e, err)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"./":              ".",
		".":               ".",
		"/":               ".",
		"./usr/bin/":      "usr/bin",
		"usr//lib/./x":    "usr/lib/x",
		"/etc/ssl/certs/": "etc/ssl/certs",
	} {
		if got, err := CleanPath(in); err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "..", "a/../b", "a\x00b"} {
		if got, err := CleanPath(bad); err == nil {
			t.Errorf("CleanPath(%q) = %q, want error", bad, got)
		}
	}
}

func TestReadBzip2DataAndUnderscoreMembers(t *testing.T) {
	bz, err := os.ReadFile(filepath.Join("testdata", "hello-data.tar.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	data := rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"_gpgorigin", "sig"},
		[2]string{"control.tar", minimalControl(t)}, [2]string{"_extra", "x"},
		[2]string{"data.tar.bz2", string(bz)}, [2]string{"trailing", "ignored"})
	info, entries := readDeb(t, data)
	if info.Package() != "x" || len(info.Scripts) != 0 || info.Conffiles != nil {
		t.Errorf("info = %+v", info)
	}
	last := entries[len(entries)-1]
	if last.Path != "usr/share/doc/hello/README" || last.Data != "hi\n" || len(entries) != 5 {
		t.Errorf("entries = %+v", entries)
	}
}

func TestReaderRejectsMalformed(t *testing.T) {
	ctl := minimalControl(t)
	data := rawTar(t, &tar.Header{Name: "./a", Typeflag: tar.TypeReg, Mode: 0o644})
	cases := map[string][]byte{
		"not ar":         []byte("hello world, not an archive"),
		"empty":          []byte("!<arch>\n"),
		"wrong first":    rawDeb(t, [2]string{"control.tar", ctl}),
		"format 3":       rawDeb(t, [2]string{"debian-binary", "3.0\n"}, [2]string{"control.tar", ctl}, [2]string{"data.tar", data}),
		"no data":        rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar", ctl}),
		"data first":     rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"data.tar", data}, [2]string{"control.tar", ctl}),
		"bad xz":         rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar.xz", "garbage"}),
		"no control":     rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar", rawTar(t, &tar.Header{Name: "./md5sums", Typeflag: tar.TypeReg})}),
		"bad conffiles":  rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar", withMember(t, "conffiles", "etc/relative\n")}),
		"bad md5sums":    rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar", withMember(t, "md5sums", "xyz  usr/bin/a\n")}),
		"md5sums escape": rawDeb(t, [2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar", withMember(t, "md5sums", strings.Repeat("0", 32)+"  ../etc/x\n")}),
	}
	full := buildDeb(t, sampleSpec(compression.XZ))
	cases["truncated"] = full[:len(full)/2]
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			r, err := NewReader(ctx, bytes.NewReader(in))
			if err == nil {
				defer r.Close()
				for err == nil {
					_, err = r.Next(ctx)
					if err == nil {
						_, err = io.Copy(io.Discard, r)
					}
				}
				if err == io.EOF {
					t.Fatal("malformed package read without error")
				}
			}
		})
	}
}

func withMember(t testing.TB, name, body string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range [][2]string{{"control", "Package: x\nVersion: 1\n"}, {name, body}} {
		if err := tw.WriteHeader(&tar.Header{Name: "./" + m[0], Mode: 0o644, Size: int64(len(m[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestReaderHonoursContext(t *testing.T) {
	data := buildDeb(t, sampleSpec(compression.Gzip))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := NewReader(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel: %v", err)
	}
	if _, err := NewReader(ctx, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Errorf("NewReader after cancel: %v", err)
	}
}

func TestConffileFlags(t *testing.T) {
	got, err := parseConffiles([]byte("/etc/a\nremove-on-upgrade /etc/b\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Conffile{{Path: "etc/a"}, {Path: "etc/b", RemoveOnUpgrade: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if _, err := parseConffiles([]byte("bogus-flag /etc/a\n")); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestWriteRejects(t *testing.T) {
	base := sampleSpec(compression.Gzip)
	cases := map[string]func(*Spec){
		"no package":    func(s *Spec) { s.Control = Paragraph{Fields: []Field{{"Version", "1"}, {"Architecture", "all"}}} },
		"escape":        func(s *Spec) { s.Files = []File{{Path: "../x"}} },
		"duplicate":     func(s *Spec) { s.Files = []File{{Path: "a"}, {Path: "/a"}} },
		"dir conffile":  func(s *Spec) { s.Files = []File{{Path: "etc", Type: TypeDir, Conffile: true}} },
		"file parent":   func(s *Spec) { s.Files = []File{{Path: "a"}, {Path: "a/b"}} },
		"bad script":    func(s *Spec) { s.Scripts = map[string][]byte{"evil": nil} },
		"bzip2 output":  func(s *Spec) { s.Compression = compression.Bzip2 },
		"empty symlink": func(s *Spec) { s.Files = []File{{Path: "l", Type: TypeSymlink}} },
		"device":        func(s *Spec) { s.Files = []File{{Path: "dev/null", Type: TypeCharDevice}} },
		"dangling link": func(s *Spec) { s.Files = []File{{Path: "a", Type: TypeHardlink, Linkname: "b"}} },
	}
	for name, mutate := range cases {
		spec := base
		mutate(&spec)
		if err := Write(context.Background(), io.Discard, spec); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Write(ctx, io.Discard, base); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

// TestDpkgDebInterop checks packages against the reference implementation
// when it is installed: dpkg-deb must accept what Write builds, and Reader
// must read what dpkg-deb builds.
func TestDpkgDebInterop(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	dir := t.TempDir()
	for _, c := range []compression.Format{compression.Gzip, compression.XZ, compression.Zstd} {
		p := filepath.Join(dir, "hello"+c.Ext()+".deb")
		if err := os.WriteFile(p, buildDeb(t, sampleSpec(c)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("dpkg-deb", "--field", p, "Version").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "1:2.10-3+deb12u1" {
			t.Fatalf("dpkg-deb --field %s: %s %v", c, out, err)
		}
		out, err = exec.Command("dpkg-deb", "--contents", p).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "./usr/bin/hi -> hello") {
			t.Fatalf("dpkg-deb --contents %s: %s %v", c, out, err)
		}
	}

	root := filepath.Join(dir, "pkg")
	for p, body := range map[string]string{
		"DEBIAN/control":     "Package: made-by-dpkg\nVersion: 0.1\nArchitecture: all\nMaintainer: X <x@example.org>\nDescription: test\n",
		"DEBIAN/postrm":      "#!/bin/sh\n",
		"usr/share/doc/x/ok": "ok\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deb := filepath.Join(dir, "made.deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %s %v", out, err)
	}
	raw, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	info, entries := readDeb(t, raw)
	if info.Package() != "made-by-dpkg" || !reflect.DeepEqual(info.Scripts, []string{"postrm"}) {
		t.Errorf("info = %+v", info)
	}
	if last := entries[len(entries)-1]; last.Path != "usr/share/doc/x/ok" || last.Data != "ok\n" {
		t.Errorf("last entry = %+v", last)
	}
}
