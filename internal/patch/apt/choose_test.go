package apt_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// simpleImage returns an image with the packages installed, using repo.
func simpleImage(t testing.TB, repo *aptrepo.Repo, suites []string, pkgs ...aptrepo.Package) patchtest.ImageSpec {
	return patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    pkgs,
		SourcesList: sourcesFor(repo, suites...),
		Keyring:     repo.Keyring,
	}
}

func TestPatchHighestVersionWinsAcrossSuites(t *testing.T) {
	// The security suite holds a lower version than the main suite.
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-3")}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm-security", "bookworm"}, hello("1.0-1")))
	db := patchtest.Database(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"})
	patched, out := patchImage(t, newPatcher(t, apt.Options{}), img, patchtest.Findings(t, img, db))
	if len(out.Updates) != 1 || out.Updates[0].To != "1.0-3" {
		t.Fatalf("updates = %+v, want hello 1.0-3", out.Updates)
	}
	mustNoFindings(t, patched, db)
}

func TestPatchNoFixAvailable(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-1")}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm", "bookworm-security"}, hello("1.0-1")))
	db := patchtest.Database(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0009", Fixed: "1.0-5"})
	_, out := patchImage(t, newPatcher(t, apt.Options{}), img, patchtest.Findings(t, img, db))
	if out.Layer != nil || len(out.Updates) != 0 {
		t.Fatalf("updates = %+v, want none", out.Updates)
	}
	if len(out.Unfixed) != 1 || !strings.HasPrefix(out.Unfixed[0].Reason, patch.ReasonNoFix) {
		t.Fatalf("unfixed = %+v, want %q", out.Unfixed, patch.ReasonNoFix)
	}
	if !strings.Contains(out.Unfixed[0].Reason, "1.0-2") {
		t.Errorf("reason %q does not name the highest version available", out.Unfixed[0].Reason)
	}
}

// glibc returns a package whose binary version carries an epoch its
// source version lacks.
func glibc(name, version, srcVersion string) aptrepo.Package {
	return aptrepo.Package{Name: name, Version: version, Source: "glibc (" + srcVersion + ")",
		Files: []debFile{file("usr/lib/"+name+".so", name+" "+version+"\n")}}
}

func TestPatchFixedVersionWithoutEpoch(t *testing.T) {
	// Installed 1:2.36-9+deb12u4, built from glibc 2.36-9+deb12u4; the
	// advisory says 2.36-9+deb12u7, without the epoch.
	installed := glibc("libc-test", "1:2.36-9+deb12u4", "2.36-9+deb12u4")
	db := patchtest.Database(t, "debian 12", patchtest.Advisory{Source: "glibc", ID: "CVE-2024-2961", Fixed: "2.36-9+deb12u7"})

	t.Run("fix available", func(t *testing.T) {
		repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
			{Name: "bookworm", Packages: []aptrepo.Package{installed}},
			{Name: "bookworm-security", Packages: []aptrepo.Package{glibc("libc-test", "1:2.36-9+deb12u7", "2.36-9+deb12u7")}},
		}})
		img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm", "bookworm-security"}, installed))
		fs := patchtest.Findings(t, img, db)
		if len(fs) != 1 || fs[0].InstalledVersion != "1:2.36-9+deb12u4" || fs[0].FixedVersion != "2.36-9+deb12u7" {
			t.Fatalf("findings = %+v", fs)
		}
		patched, out := patchImage(t, newPatcher(t, apt.Options{}), img, fs)
		if len(out.Updates) != 1 || out.Updates[0].To != "1:2.36-9+deb12u7" {
			t.Fatalf("updates = %+v", out.Updates)
		}
		mustNoFindings(t, patched, db)
	})
	t.Run("only an older fix", func(t *testing.T) {
		// 1:2.36-9+deb12u5 is above 2.36-9+deb12u7 as written (any
		// epoch beats none) but is not the fix.
		repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
			{Name: "bookworm", Packages: []aptrepo.Package{installed}},
			{Name: "bookworm-security", Packages: []aptrepo.Package{{Name: "libc-test", Version: "1:2.36-9+deb12u5", Source: "glibc"}}},
		}})
		img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm", "bookworm-security"}, installed))
		// A report that dropped the epoch the binary's own source has.
		fs := []patch.Finding{{VulnerabilityID: "CVE-2024-2961", PkgName: "libc-test", InstalledVersion: "1:2.36-9+deb12u4", FixedVersion: "2.36-9+deb12u7"}}
		_, out := patchImage(t, newPatcher(t, apt.Options{}), img, fs)
		if len(out.Updates) != 0 || len(out.Unfixed) != 1 {
			t.Fatalf("updates = %+v, unfixed = %+v; want no update", out.Updates, out.Unfixed)
		}
	})
}

func TestPatchUpgradesEveryBinaryOfTheSource(t *testing.T) {
	lib := func(v string) aptrepo.Package {
		return aptrepo.Package{Name: "libfoo1", Version: v, Source: "foo", Files: []debFile{file("usr/lib/libfoo.so.1", "libfoo "+v)}}
	}
	bin := func(v string) aptrepo.Package {
		return aptrepo.Package{Name: "foo-utils", Version: v, Source: "foo", Depends: "libfoo1 (= " + v + ")", Files: []debFile{file("usr/bin/foo", "foo "+v)}}
	}
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{lib("1.0-1"), bin("1.0-1")}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{lib("1.0-1+deb12u1"), bin("1.0-1+deb12u1")}},
	}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm", "bookworm-security"}, lib("1.0-1"), bin("1.0-1")))
	// The report names only the library.
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-1111", PkgName: "libfoo1", InstalledVersion: "1.0-1", FixedVersion: "1.0-1+deb12u1"}}
	patched, out := patchImage(t, newPatcher(t, apt.Options{}), img, fs)
	var names []string
	for _, u := range out.Updates {
		names = append(names, u.Name+"="+u.To)
	}
	if !slices.Equal(names, []string{"foo-utils=1.0-1+deb12u1", "libfoo1=1.0-1+deb12u1"}) {
		t.Fatalf("updates = %v", names)
	}
	db := patchtest.Database(t, "debian 12", patchtest.Advisory{Source: "foo", ID: "CVE-2024-1111", Fixed: "1.0-1+deb12u1"})
	mustNoFindings(t, patched, db)
}

func TestPatchDryRun(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1")))
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-0001", PkgName: "hello", InstalledVersion: "1.0-1", FixedVersion: "1.0-2"}}
	out, err := newPatcher(t, apt.Options{}).Patch(context.Background(), img, patch.Request{Findings: fs, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Layer != nil || len(out.Updates) != 1 || out.Updates[0].Reason != "fixes CVE-2024-0001" {
		t.Fatalf("dry run outcome = %+v", out)
	}
	if n := repo.Requests(aptrepo.PoolPath(hello("1.0-2"))); n != 0 {
		t.Errorf("dry run downloaded the package (%d requests)", n)
	}
}

func TestPatchHeldPackage(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	spec := simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1"))
	spec.Held = []string{"hello"}
	img := patchtest.Image(t, spec)
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-0001", PkgName: "hello", InstalledVersion: "1.0-1", FixedVersion: "1.0-2"}}
	_, out := patchImage(t, newPatcher(t, apt.Options{}), img, fs)
	if len(out.Updates) != 0 || len(out.Unfixed) != 1 || !strings.Contains(out.Unfixed[0].Reason, "hold") {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestPatchIsDeterministic(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1")))
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-0001", PkgName: "hello", InstalledVersion: "1.0-1", FixedVersion: "1.0-2"}}
	var digests []string
	for range 2 {
		_, out := patchImage(t, newPatcher(t, apt.Options{}), img, fs)
		d, err := out.Layer.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d.String())
	}
	if digests[0] != digests[1] {
		t.Fatalf("layer digests differ: %v", digests)
	}
}
