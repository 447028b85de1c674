package apk_test

import (
	"context"
	"slices"
	"testing"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	apkpatch "github.com/patchloop/patchloop/internal/patch/apk"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
)

// TestPatchWolfi patches a Wolfi-layout image: os-release ID=wolfi, the
// repository https://packages.wolfi.dev/os (reached through a mirror that
// replaces the whole URL), its index signed by wolfi-signing.rsa.pub.
func TestPatchWolfi(t *testing.T) {
	t.Parallel()
	key := apkrepo.SharedKey(0, "wolfi-signing.rsa.pub")
	glibc := func(v string) apkrepo.Package {
		return apkrepo.Package{Name: "glibc", Version: v, Provides: []string{"so:libc.so.6=6"},
			Triggers: []string{"/lib", "/usr/lib"}, Scripts: map[string]string{".trigger": "#!/bin/sh\n/sbin/ldconfig\n"},
			Files: []apkrepo.File{{Path: "usr/lib/libc.so.6", Body: "glibc " + v, Mode: 0o755}}}
	}
	locale := func(v string) apkrepo.Package {
		return apkrepo.Package{Name: "glibc-locale-posix", Version: v, Origin: "glibc", Depends: []string{"glibc=" + v},
			Files: []apkrepo.File{{Path: "usr/lib/locale/C.utf8/LC_CTYPE", Body: "ctype " + v}}}
	}
	srv := apkrepo.New(t, apkrepo.Config{IndexKey: key, Repositories: []apkrepo.Repository{{
		Path: "os", Packages: []apkrepo.Package{glibc("2.42-r0"), locale("2.42-r0"), glibc("2.42-r3"), locale("2.42-r3")},
	}}})
	img := apkrepo.Image(t, apkrepo.ImageSpec{
		ID: "wolfi", VersionID: "20230201", Keys: []*apkrepo.Key{key},
		Repositories: []string{"https://packages.wolfi.dev/os"},
		Packages:     []apkrepo.Package{glibc("2.42-r0"), locale("2.42-r0")},
	})
	db := patchtest.Database(t, "wolfi", patchtest.Advisory{Source: "glibc", ID: "CVE-2026-3000", Fixed: "2.42-r3"})
	fs := patchtest.Findings(t, img, db)
	if len(fs) != 2 {
		t.Fatalf("findings %+v", fs)
	}
	p, err := apkpatch.New(apkpatch.Options{CacheDir: t.TempDir(), Logger: quiet, Mirrors: patch.Mirrors{All: srv.RepoURL("os")}})
	if err != nil {
		t.Fatal(err)
	}
	patched, out, err := patchtest.PatchImage(t, p, img, fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Updates) != 2 || !slices.Equal(out.Fixed, []string{"CVE-2026-3000"}) {
		t.Fatalf("outcome %+v", out)
	}
	if left := patchtest.Findings(t, patched, db); len(left) > 0 {
		t.Errorf("findings after patching: %+v", left)
	}
	if len(out.SkippedScripts) != 1 || out.SkippedScripts[0].Package != "glibc" || !slices.Equal(out.SkippedScripts[0].Scripts, []string{".trigger"}) {
		t.Errorf("skipped scripts %+v", out.SkippedScripts)
	}
	files := patchtest.ReadFiles(t, patched, "lib/apk/db/installed", "usr/lib/libc.so.6", "lib/apk/db/triggers")
	if want := apkrepo.Build(t, glibc("2.42-r3")).TriggersLine() + "\n"; files["lib/apk/db/triggers"] != want {
		t.Errorf("triggers %q, want %q", files["lib/apk/db/triggers"], want)
	}
	want := apkrepo.Build(t, glibc("2.42-r3")).InstalledRecord() + apkrepo.Build(t, locale("2.42-r3")).InstalledRecord()
	if files["lib/apk/db/installed"] != want || files["usr/lib/libc.so.6"] != "glibc 2.42-r3" {
		t.Errorf("installed database:\n%s\nwant:\n%s", files["lib/apk/db/installed"], want)
	}
}

// TestRegistered checks that the registry hands Alpine, Wolfi and
// Chainguard images to the apk patcher.
func TestRegistered(t *testing.T) {
	t.Parallel()
	ps, err := patch.New(context.Background(), patch.Config{DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []ospkg.Family{ospkg.Alpine, ospkg.Wolfi, ospkg.Chainguard} {
		p, err := ps.For(f)
		if err != nil || p.Name() != "apk" {
			t.Errorf("%s: %v %v", f, p, err)
		}
	}
}
