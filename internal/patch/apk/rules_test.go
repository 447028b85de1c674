package apk_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
)

// TestReplacesAndConflicts: a new version that ships a file of another
// installed package takes it over when it replaces that package, and is
// refused otherwise; a declared conflict with an installed package is
// refused.
func TestReplacesAndConflicts(t *testing.T) {
	t.Parallel()
	tools := apkrepo.Package{Name: "tools", Version: "1.0-r0", Files: []apkrepo.File{
		{Path: "usr/bin/tool", Body: "tool from tools"}, {Path: "usr/bin/other", Body: "other"},
	}}
	bar := func(v string, replaces, depends []string) apkrepo.Package {
		return apkrepo.Package{Name: "bar", Version: v, Replaces: replaces, Depends: depends, Files: []apkrepo.File{
			{Path: "usr/bin/bar", Body: "bar " + v}, {Path: "usr/bin/tool", Body: "tool from bar " + v},
		}}
	}
	barOld := apkrepo.Package{Name: "bar", Version: "1.0-r0", Files: []apkrepo.File{{Path: "usr/bin/bar", Body: "bar 1.0-r0"}}}
	db := patchtest.Database(t, "alpine 3.22", patchtest.Advisory{Source: "bar", ID: "CVE-2026-4000", Fixed: "1.0-r1"})
	for _, tc := range []struct {
		name string
		new  apkrepo.Package
		want error
	}{
		{"replaces", bar("1.0-r1", []string{"tools"}, nil), nil},
		{"file conflict", bar("1.0-r1", nil, nil), patch.ErrConflict},
		{"declared conflict", bar("1.0-r1", []string{"tools"}, []string{"!tools"}), patch.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := apkrepo.New(t, apkrepo.Config{Repositories: []apkrepo.Repository{{Path: mainRepo, Packages: []apkrepo.Package{tools, tc.new}}}})
			img := apkrepo.Image(t, apkrepo.ImageSpec{Packages: []apkrepo.Package{barOld, tools}, Repositories: []string{srv.RepoURL(mainRepo)}})
			patched, _, err := patchtest.PatchImage(t, newPatcher(t), img, patchtest.Findings(t, img, db))
			if tc.want != nil {
				if !errors.Is(err, tc.want) || !patch.IsPermanent(err) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				if !strings.Contains(err.Error(), "tools") {
					t.Errorf("error does not name the other package: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			files := patchtest.ReadFiles(t, patched, "lib/apk/db/installed", "usr/bin/tool", "usr/bin/other")
			toolsRec := strings.Replace(apkrepo.Build(t, tools).InstalledRecord(), "R:tool\nZ:"+checksumOf("tool from tools")+"\n", "", 1)
			want := apkrepo.Build(t, tc.new).InstalledRecord() + toolsRec
			if files["lib/apk/db/installed"] != want {
				t.Errorf("installed database:\n%s\nwant:\n%s", files["lib/apk/db/installed"], want)
			}
			if files["usr/bin/tool"] != "tool from bar 1.0-r1" || files["usr/bin/other"] != "other" {
				t.Errorf("files %v", files)
			}
		})
	}
}

// checksumOf returns apk's Q1 checksum of a content.
func checksumOf(body string) string {
	s := sha1.Sum([]byte(body))
	return "Q1" + base64.StdEncoding.EncodeToString(s[:])
}

// TestSonameBump: the fixed library provides a new soname; an installed
// program linked against the old one is upgraded to its rebuild, and
// without a rebuild the plan fails naming it.
func TestSonameBump(t *testing.T) {
	t.Parallel()
	lib := func(v, so string) apkrepo.Package {
		return apkrepo.Package{Name: "libz", Version: v, Provides: []string{"so:libz.so." + so + "=" + so},
			Files: []apkrepo.File{{Path: "usr/lib/libz.so." + so, Body: "libz " + v}}}
	}
	app := func(v, so string) apkrepo.Package {
		return apkrepo.Package{Name: "app", Version: v, Depends: []string{"so:libz.so." + so},
			Files: []apkrepo.File{{Path: "usr/bin/app", Body: "app " + v}}}
	}
	db := patchtest.Database(t, "alpine 3.22", patchtest.Advisory{Source: "libz", ID: "CVE-2026-5000", Fixed: "2.0-r0"})
	for _, rebuilt := range []bool{true, false} {
		repo := []apkrepo.Package{lib("1.0-r0", "1"), lib("2.0-r0", "2"), app("1.0-r0", "1")}
		if rebuilt {
			repo = append(repo, app("1.0-r1", "2"))
		}
		srv := apkrepo.New(t, apkrepo.Config{Repositories: []apkrepo.Repository{{Path: mainRepo, Packages: repo}}})
		img := apkrepo.Image(t, apkrepo.ImageSpec{Packages: []apkrepo.Package{app("1.0-r0", "1"), lib("1.0-r0", "1")}, Repositories: []string{srv.RepoURL(mainRepo)}})
		_, out, err := patchtest.PatchImage(t, newPatcher(t), img, patchtest.Findings(t, img, db))
		if !rebuilt {
			if !errors.Is(err, patch.ErrUnmetDependency) || !strings.Contains(err.Error(), "app-1.0-r0 depends on so:libz.so.1") {
				t.Errorf("without a rebuild: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Updates) != 2 || out.Updates[0].Name != "app" || out.Updates[0].To != "1.0-r1" || !strings.Contains(out.Updates[0].Reason, "so:libz.so.1 is no longer met") {
			t.Errorf("updates %+v", out.Updates)
		}
	}
}

// TestProtectedPathsList: a protected_paths.d list protects a path outside
// etc (a changed file there is kept, the new one beside it as .apk-new)
// and unprotects one inside etc (replaced although changed).
func TestProtectedPathsList(t *testing.T) {
	t.Parallel()
	pkg := func(v string) apkrepo.Package {
		return apkrepo.Package{Name: "web", Version: v, Files: []apkrepo.File{
			{Path: "srv/www/index.html", Body: "index " + v}, {Path: "etc/web/mime.types", Body: "mime " + v},
		}}
	}
	srv := apkrepo.New(t, apkrepo.Config{Repositories: []apkrepo.Repository{{Path: mainRepo, Packages: []apkrepo.Package{pkg("2.0-r1")}}}})
	img := apkrepo.Image(t, apkrepo.ImageSpec{Packages: []apkrepo.Package{pkg("2.0-r0")}, Repositories: []string{srv.RepoURL(mainRepo)},
		Changes: map[string]string{
			"srv/www/index.html":                 "my index",
			"etc/web/mime.types":                 "my mime",
			"etc/apk/protected_paths.d/web.list": "+srv/www\n-etc/web/mime.types\n",
		}})
	db := patchtest.Database(t, "alpine 3.22", patchtest.Advisory{Source: "web", ID: "CVE-2026-7000", Fixed: "2.0-r1"})
	patched, _, err := patchtest.PatchImage(t, newPatcher(t), img, patchtest.Findings(t, img, db))
	if err != nil {
		t.Fatal(err)
	}
	got := patchtest.ReadFiles(t, patched, "srv/www/index.html", "srv/www/index.html.apk-new", "etc/web/mime.types", "etc/web/mime.types.apk-new")
	want := map[string]string{"srv/www/index.html": "my index", "srv/www/index.html.apk-new": "index 2.0-r1", "etc/web/mime.types": "mime 2.0-r1"}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("/%s = %q, want %q", p, got[p], w)
		}
	}
	if _, ok := got["etc/web/mime.types.apk-new"]; ok {
		t.Error("an unprotected file got an .apk-new")
	}
}

// TestPinnedRepository: packages of an "@tag" repository are only chosen
// for world entries pinned to that tag.
func TestPinnedRepository(t *testing.T) {
	t.Parallel()
	pkg := func(v string) apkrepo.Package {
		return apkrepo.Package{Name: "tool", Version: v, Files: []apkrepo.File{{Path: "usr/bin/tool", Body: "tool " + v}}}
	}
	srv := apkrepo.New(t, apkrepo.Config{Repositories: []apkrepo.Repository{
		{Path: mainRepo, Packages: []apkrepo.Package{pkg("1.0-r1")}},
		{Path: "alpine/edge/testing", Packages: []apkrepo.Package{pkg("1.0-r5")}},
	}})
	db := patchtest.Database(t, "alpine 3.22", patchtest.Advisory{Source: "tool", ID: "CVE-2026-8000", Fixed: "1.0-r1"})
	for world, want := range map[string]string{"tool": "1.0-r1", "tool@testing": "1.0-r5"} {
		img := apkrepo.Image(t, apkrepo.ImageSpec{Packages: []apkrepo.Package{pkg("1.0-r0")}, World: []string{world},
			Repositories: []string{srv.RepoURL(mainRepo), "@testing " + srv.RepoURL("alpine/edge/testing")}})
		out, err := newPatcher(t).Patch(context.Background(), img, patch.Request{Findings: patchtest.Findings(t, img, db), DryRun: true, WorkDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Updates) != 1 || out.Updates[0].To != want {
			t.Errorf("world %q: updates %+v, want tool %s", world, out.Updates, want)
		}
	}
}
