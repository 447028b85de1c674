package apk_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/patch"
	apkpatch "github.com/patchloop/patchloop/internal/patch/apk"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const mainRepo = "alpine/v3.22/main"

// The packages of the tests: musl stays, the foo origin (foo and libfoo)
// is vulnerable before 1.0-r1, and its newest build needs a new library.
var (
	musl = apkrepo.Package{Name: "musl", Version: "1.2.5-r10", Provides: []string{"so:libc.musl-x86_64.so.1=1"},
		Files: []apkrepo.File{{Path: "lib/ld-musl-x86_64.so.1", Body: "musl loader", Mode: 0o755}, {Path: "lib/libc.musl-x86_64.so.1", Type: tar.TypeSymlink, Linkname: "ld-musl-x86_64.so.1"}}}
	fooOld = apkrepo.Package{Name: "foo", Version: "1.0-r0", Origin: "foo", Depends: []string{"so:libc.musl-x86_64.so.1", "libfoo=1.0-r0"},
		Files: []apkrepo.File{
			{Path: "usr/bin/foo", Body: "foo 1.0-r0", Mode: 0o755},
			{Path: "etc/foo.conf", Body: "setting=old\n"},
			{Path: "etc/foo-default.conf", Body: "default=old\n"},
			{Path: "usr/share/foo/old.txt", Body: "dropped in r2"},
		},
		Scripts: map[string]string{".post-upgrade": "#!/bin/sh\necho old\n"}}
	libfooOld = apkrepo.Package{Name: "libfoo", Version: "1.0-r0", Origin: "foo", Provides: []string{"so:libfoo.so.1=1.0"},
		Files: []apkrepo.File{{Path: "usr/lib/libfoo.so.1", Body: "libfoo 1.0-r0", Mode: 0o755}}}
	fooNew = apkrepo.Package{Name: "foo", Version: "1.0-r2", Origin: "foo", Depends: []string{"so:libc.musl-x86_64.so.1", "so:libbar.so.2", "libfoo=1.0-r2"},
		Files: []apkrepo.File{
			{Path: "usr/bin/foo", Body: "foo 1.0-r2", Mode: 0o755},
			{Path: "usr/bin/foo-ping", Body: "ping", Mode: 0o755, Xattrs: map[string]string{"security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00"}},
			{Path: "usr/sbin/foo-helper", Body: "helper", Mode: 0o4750, GID: 101},
			{Path: "etc/foo.conf", Body: "setting=new\n"},
			{Path: "etc/foo-default.conf", Body: "default=new\n"},
		},
		Scripts: map[string]string{".post-upgrade": "#!/bin/sh\necho new\n", ".pre-install": "#!/bin/sh\n"}}
	libfooNew = apkrepo.Package{Name: "libfoo", Version: "1.0-r2", Origin: "foo", Provides: []string{"so:libfoo.so.1=1.0"}, Depends: []string{"so:libc.musl-x86_64.so.1"},
		Files: []apkrepo.File{{Path: "usr/lib/libfoo.so.1", Body: "libfoo 1.0-r2", Mode: 0o755}}}
	libbar = apkrepo.Package{Name: "libbar", Version: "2.0-r0", Provides: []string{"so:libbar.so.2=2.0"}, Depends: []string{"so:libc.musl-x86_64.so.1"},
		Files: []apkrepo.File{{Path: "usr/lib/libbar.so.2", Body: "libbar", Mode: 0o755}}}
	// r1 fixes too; r2 is the highest and is chosen.
	fooR1    = apkrepo.Package{Name: "foo", Version: "1.0-r1", Origin: "foo", Files: []apkrepo.File{{Path: "usr/bin/foo", Body: "foo r1"}}}
	libfooR1 = apkrepo.Package{Name: "libfoo", Version: "1.0-r1", Origin: "foo", Files: []apkrepo.File{{Path: "usr/lib/libfoo.so.1", Body: "libfoo r1"}}}
)

var advisory = patchtest.Advisory{Source: "foo", ID: "CVE-2026-1000", Fixed: "1.0-r1"}

// setup serves the repository and builds the image.
func setup(t *testing.T, repo []apkrepo.Package, cfg apkrepo.Config) (*apkrepo.Server, v1.Image) {
	t.Helper()
	cfg.Repositories = []apkrepo.Repository{{Path: mainRepo, Packages: repo}}
	srv := apkrepo.New(t, cfg)
	img := apkrepo.Image(t, apkrepo.ImageSpec{
		Packages:     []apkrepo.Package{musl, fooOld, libfooOld},
		Repositories: []string{"# the test repository", srv.RepoURL(mainRepo)},
		Changes:      map[string]string{"etc/foo.conf": "setting=mine\n"},
	})
	return srv, img
}

func newPatcher(t testing.TB) *apkpatch.Patcher {
	t.Helper()
	p, err := apkpatch.New(apkpatch.Options{CacheDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPatchAlpine(t *testing.T) {
	t.Parallel()
	_, img := setup(t, []apkrepo.Package{musl, fooR1, libfooR1, fooNew, libfooNew, libbar}, apkrepo.Config{})
	db := patchtest.Database(t, "alpine 3.22", advisory)
	fs := patchtest.Findings(t, img, db)
	if len(fs) != 2 {
		t.Fatalf("findings before patching: %+v", fs)
	}
	p := newPatcher(t)
	patched, out, err := patchtest.PatchImage(t, p, img, fs)
	if err != nil {
		t.Fatal(err)
	}

	// The plan: the whole origin to its highest build, and the new library
	// its new build needs; musl, which meets so:libc, stays.
	var got []string
	for _, u := range out.Updates {
		got = append(got, u.Name+" "+u.From+" -> "+u.To+": "+u.Reason)
	}
	want := []string{
		"foo 1.0-r0 -> 1.0-r2: fixes CVE-2026-1000",
		"libbar  -> 2.0-r0: new dependency of foo",
		"libfoo 1.0-r0 -> 1.0-r2: fixes CVE-2026-1000",
	}
	if !slices.Equal(got, want) {
		t.Errorf("updates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(out.Fixed, []string{"CVE-2026-1000"}) || len(out.Unfixed) != 0 {
		t.Errorf("fixed %v unfixed %v", out.Fixed, out.Unfixed)
	}
	if want := "patchloop apk: foo 1.0-r0 -> 1.0-r2, libbar (new) 2.0-r0, libfoo 1.0-r0 -> 1.0-r2; fixes CVE-2026-1000"; out.LayerHistory != want {
		t.Errorf("history %q, want %q", out.LayerHistory, want)
	}
	if len(out.SkippedScripts) != 1 || out.SkippedScripts[0].Package != "foo" || !slices.Equal(out.SkippedScripts[0].Scripts, []string{".post-upgrade"}) {
		t.Errorf("skipped scripts %+v", out.SkippedScripts)
	}

	// A rescan finds nothing left to fix.
	if left := patchtest.Findings(t, patched, db); len(left) > 0 {
		t.Errorf("fixable findings after patching: %+v", left)
	}

	// The database: each record exactly as apk writes it after installing
	// the package, in the original order, the new package last.
	files := patchtest.ReadFiles(t, patched, "lib/apk/db/installed", "lib/apk/db/scripts.tar", "usr/bin/foo", "usr/bin/foo-ping", "usr/lib/libfoo.so.1",
		"usr/lib/libbar.so.2", "etc/foo.conf", "etc/foo.conf.apk-new", "etc/foo-default.conf", "usr/share/foo/old.txt", "etc/apk/world")
	wantDB := apkrepo.Build(t, musl).InstalledRecord() + apkrepo.Build(t, fooNew).InstalledRecord() +
		apkrepo.Build(t, libfooNew).InstalledRecord() + apkrepo.Build(t, libbar).InstalledRecord()
	if files["lib/apk/db/installed"] != wantDB {
		t.Errorf("installed database:\n%s\nwant:\n%s", files["lib/apk/db/installed"], wantDB)
	}
	for p, want := range map[string]string{
		"usr/bin/foo":          "foo 1.0-r2",
		"usr/bin/foo-ping":     "ping",
		"usr/lib/libfoo.so.1":  "libfoo 1.0-r2",
		"usr/lib/libbar.so.2":  "libbar",
		"etc/foo.conf":         "setting=mine\n", // changed by the user: kept
		"etc/foo.conf.apk-new": "setting=new\n",
		"etc/foo-default.conf": "default=new\n", // unchanged: replaced
		"etc/apk/world":        "foo\nlibfoo\nmusl\n",
	} {
		if files[p] != want {
			t.Errorf("/%s = %q, want %q", p, files[p], want)
		}
	}
	if _, ok := files["usr/share/foo/old.txt"]; ok {
		t.Error("/usr/share/foo/old.txt, dropped by the new version, is still there")
	}
	scripts := tarNames(t, files["lib/apk/db/scripts.tar"])
	wantScripts := apkrepo.Build(t, fooNew).ScriptNames()
	if !slices.Equal(scripts, wantScripts) {
		t.Errorf("scripts.tar %v, want %v", scripts, wantScripts)
	}

	// Modes, owners and capabilities as the package has them.
	hs := patchtest.LayerHeaders(t, out.Layer)
	if h := hs["usr/bin/foo-ping"]; h == nil || h.PAXRecords["SCHILY.xattr.security.capability"] != "\x01\x00\x00\x02\x00\x20\x00\x00" {
		t.Errorf("usr/bin/foo-ping header %+v", h)
	}
	if h := hs["usr/sbin/foo-helper"]; h == nil || h.Mode != 0o4750 || h.Gid != 101 {
		t.Errorf("usr/sbin/foo-helper header %+v", h)
	}
	if h := hs["usr/share/foo/.wh.old.txt"]; h == nil {
		t.Error("no whiteout for usr/share/foo/old.txt")
	}

	// Deterministic: the same inputs give the same layer.
	_, again, err := patchtest.PatchImage(t, newPatcher(t), img, fs)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := out.Layer.Digest()
	d2, _ := again.Layer.Digest()
	if d1 != d2 {
		t.Errorf("layer digests differ: %s and %s", d1, d2)
	}
}

// tarNames lists the names in a tar archive.
func tarNames(t testing.TB, data string) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(strings.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
	}
}

func TestPatchRefused(t *testing.T) {
	t.Parallel()
	full := []apkrepo.Package{musl, fooNew, libfooNew, libbar}
	cases := []struct {
		name   string
		repo   []apkrepo.Package
		cfg    apkrepo.Config
		tamper func(t *testing.T, srv *apkrepo.Server)
		want   error
		perm   bool
	}{
		{name: "untrusted index key", repo: full, cfg: apkrepo.Config{IndexKey: apkrepo.StrangerKey()}, want: apk.ErrUntrustedKey},
		{name: "modified index", repo: full, tamper: func(t *testing.T, srv *apkrepo.Server) {
			p := mainRepo + "/x86_64/APKINDEX.tar.gz"
			text := apkrepo.Build(t, fooNew).IndexRecord() + "\n"
			srv.Tamper(t, p, func(b []byte) []byte { return apkrepo.SwapIndexText(t, b, text) })
		}, want: apk.ErrBadSignature},
		{name: "tampered data", repo: full, tamper: func(t *testing.T, srv *apkrepo.Server) {
			p := mainRepo + "/x86_64/" + fooNew.FileName()
			b := srv.Built(p)
			evil := fooNew
			evil.Files = append(slices.Clone(fooNew.Files), apkrepo.File{Path: "usr/bin/evil", Body: "x"})
			eb := apkrepo.Build(t, evil)
			srv.Tamper(t, p, func([]byte) []byte { return slices.Concat(b.Signature, b.Control, eb.DataStream) })
		}, want: apk.ErrChecksum},
		{name: "tampered control", repo: full, tamper: func(t *testing.T, srv *apkrepo.Server) {
			p := mainRepo + "/x86_64/" + fooNew.FileName()
			b := srv.Built(p)
			evil := fooNew
			evil.Scripts = map[string]string{".post-upgrade": "#!/bin/sh\nrm -rf /\n"}
			eb := apkrepo.Build(t, evil)
			srv.Tamper(t, p, func([]byte) []byte { return slices.Concat(b.Signature, eb.Control, b.DataStream) })
		}, want: apk.ErrChecksum},
		{name: "unmet dependency", repo: []apkrepo.Package{musl, fooNew, libfooNew}, want: patch.ErrUnmetDependency, perm: true},
	}
	db := patchtest.Database(t, "alpine 3.22", advisory)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, img := setup(t, tc.repo, tc.cfg)
			if tc.tamper != nil {
				tc.tamper(t, srv)
			}
			_, _, err := patchtest.PatchImage(t, newPatcher(t), img, patchtest.Findings(t, img, db))
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if patch.IsPermanent(err) != tc.perm {
				t.Errorf("permanent: %v, want %v", patch.IsPermanent(err), tc.perm)
			}
		})
	}
}

func TestNoFixAvailable(t *testing.T) {
	t.Parallel()
	_, img := setup(t, []apkrepo.Package{musl, fooOld, libfooOld}, apkrepo.Config{})
	db := patchtest.Database(t, "alpine 3.22", advisory)
	_, out, err := patchtest.PatchImage(t, newPatcher(t), img, patchtest.Findings(t, img, db))
	if err != nil {
		t.Fatal(err)
	}
	if out.Layer != nil || len(out.Updates) != 0 || len(out.Unfixed) != 2 || !strings.HasPrefix(out.Unfixed[0].Reason, patch.ReasonNoFix) {
		t.Fatalf("outcome %+v", out)
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	srv, img := setup(t, []apkrepo.Package{musl, fooNew, libfooNew, libbar}, apkrepo.Config{})
	db := patchtest.Database(t, "alpine 3.22", advisory)
	out, err := newPatcher(t).Patch(context.Background(), img, patch.Request{Findings: patchtest.Findings(t, img, db), DryRun: true, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if out.Layer != nil || len(out.Updates) != 3 {
		t.Fatalf("dry run outcome %+v", out)
	}
	if n := srv.Requests(mainRepo + "/x86_64/" + fooNew.FileName()); n != 0 {
		t.Errorf("dry run downloaded the package %d times", n)
	}
}
