package apt_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// helloFinding is the finding the dependency tests fix.
var helloFinding = []patch.Finding{{VulnerabilityID: "CVE-2024-0001", PkgName: "hello", InstalledVersion: "1.0-1", FixedVersion: "1.0-2"}}

// withFields returns hello 1.0-2 with extra control fields.
func withFields(fields ...deb.Field) aptrepo.Package {
	p := hello("1.0-2")
	p.Extra = fields
	return p
}

func TestPatchInstallsUnmetDependency(t *testing.T) {
	newHello := hello("1.0-2")
	newHello.Depends = "libnew1 (>= 1.1), other (>= 2.0)"
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{
		newHello,
		{Name: "libnew1", Version: "1.0-1", Files: []deb.File{file("usr/lib/libnew.so.1", "1.0")}},
		{Name: "libnew1", Version: "1.2-1", Files: []deb.File{file("usr/lib/libnew.so.1", "1.2")}},
		{Name: "other", Version: "2.0-1"},
	}}}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1"), aptrepo.Package{Name: "other", Version: "2.0-1"}))
	patched, out := patchImage(t, newPatcher(t, apt.Options{}), img, helloFinding)
	if len(out.Updates) != 2 {
		t.Fatalf("updates = %+v", out.Updates)
	}
	dep := out.Updates[1]
	if dep.Name != "libnew1" || dep.From != "" || dep.To != "1.2-1" || !strings.Contains(dep.Reason, "dependency of hello") {
		t.Errorf("dependency update = %+v", dep)
	}
	got := patchtest.ReadFiles(t, patched, "usr/lib/libnew.so.1", "var/lib/dpkg/status", "var/lib/dpkg/info/libnew1.list")
	if got["usr/lib/libnew.so.1"] != "1.2" {
		t.Errorf("libnew.so.1 = %q", got["usr/lib/libnew.so.1"])
	}
	if rec := record(t, got["var/lib/dpkg/status"], "libnew1"); rec.Get("Status") != "install ok installed" {
		t.Errorf("libnew1 record = %+v", rec)
	}
	if got["var/lib/dpkg/info/libnew1.list"] == "" {
		t.Error("libnew1.list missing")
	}
	// The status file stays sorted by package name.
	status := got["var/lib/dpkg/status"]
	if i, j, k := strings.Index(status, "Package: hello"), strings.Index(status, "Package: libnew1"), strings.Index(status, "Package: other"); !(i < j && j < k) {
		t.Errorf("status records out of order:\n%s", status)
	}
}

func TestPatchUnmetDependencyFails(t *testing.T) {
	newHello := hello("1.0-2")
	newHello.Depends = "libmissing1"
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{newHello}}}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1")))
	_, err := newPatcher(t, apt.Options{}).Patch(context.Background(), img, patch.Request{Findings: helloFinding, DryRun: true})
	if !errors.Is(err, patch.ErrUnmetDependency) || !strings.Contains(err.Error(), "libmissing1") {
		t.Fatalf("err = %v, want ErrUnmetDependency naming libmissing1", err)
	}
}

func TestPatchConflictFails(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{
		withFields(deb.Field{Name: "Conflicts", Value: "legacy"}),
		{Name: "legacy", Version: "0.9-1"},
	}}}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1"), aptrepo.Package{Name: "legacy", Version: "0.9-1"}))
	_, err := newPatcher(t, apt.Options{}).Patch(context.Background(), img, patch.Request{Findings: helloFinding, WorkDir: t.TempDir()})
	if !errors.Is(err, patch.ErrConflict) || !strings.Contains(err.Error(), "hello 1.0-2 conflicts with legacy") {
		t.Fatalf("err = %v, want ErrConflict naming hello and legacy", err)
	}
}

func TestPatchUpgradesWhatTheNewVersionBreaks(t *testing.T) {
	// hello 1.0-2 breaks plugin << 2; plugin 2.0-1 is available.
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{
		withFields(deb.Field{Name: "Breaks", Value: "hello-plugin (<< 2)"}),
		{Name: "hello-plugin", Version: "2.0-1", Depends: "hello (>= 1.0-2)"},
	}}}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1"), aptrepo.Package{Name: "hello-plugin", Version: "1.5-1", Depends: "hello"}))
	_, out := patchImage(t, newPatcher(t, apt.Options{}), img, helloFinding)
	if len(out.Updates) != 2 || out.Updates[1].Name != "hello-plugin" || out.Updates[1].To != "2.0-1" {
		t.Fatalf("updates = %+v", out.Updates)
	}
}

func TestPatchUpgradesReverseDependency(t *testing.T) {
	// tool (another source) depends on the exact version of the library.
	lib := func(v string) aptrepo.Package { return aptrepo.Package{Name: "libbar1", Version: v, Source: "bar"} }
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{
		lib("1.0-2"),
		{Name: "tool", Version: "3.0-1+b1", Depends: "libbar1 (= 1.0-2)"},
	}}}})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, lib("1.0-1"), aptrepo.Package{Name: "tool", Version: "3.0-1", Depends: "libbar1 (= 1.0-1)"}))
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-0004", PkgName: "libbar1", InstalledVersion: "1.0-1", FixedVersion: "1.0-2"}}
	_, out := patchImage(t, newPatcher(t, apt.Options{}), img, fs)
	if len(out.Updates) != 2 || out.Updates[1].Name != "tool" || out.Updates[1].To != "3.0-1+b1" {
		t.Fatalf("updates = %+v", out.Updates)
	}
}

func TestPatchRejectsTamperedPackage(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-2")}}}})
	repo.Tamper(t, aptrepo.PoolPath(hello("1.0-2")), func(b []byte) []byte {
		b[len(b)-1] ^= 0xff
		return b
	})
	img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1")))
	_, err := newPatcher(t, apt.Options{}).Patch(context.Background(), img, patch.Request{Findings: helloFinding, WorkDir: t.TempDir()})
	if !errors.Is(err, archive.ErrHashMismatch) || !strings.Contains(err.Error(), "hello") {
		t.Fatalf("err = %v, want ErrHashMismatch naming hello", err)
	}
}

func TestPatchRejectsBadSignature(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-2")}}}})
	stranger := aptrepo.NewKey(t, aptrepo.KeyOptions{})
	spec := simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1"))
	spec.Keyring = stranger.PublicKeyring(t) // the image trusts another key
	img := patchtest.Image(t, spec)
	_, err := newPatcher(t, apt.Options{}).Patch(context.Background(), img, patch.Request{Findings: helloFinding, DryRun: true})
	if !errors.Is(err, archive.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}

	t.Run("tampered InRelease", func(t *testing.T) {
		img := patchtest.Image(t, simpleImage(t, repo, []string{"bookworm"}, hello("1.0-1")))
		repo.Tamper(t, "dists/bookworm/InRelease", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), "Suite: bookworm", "Suite: bookwore", 1))
		})
		_, err := newPatcher(t, apt.Options{}).Patch(context.Background(), img, patch.Request{Findings: helloFinding, DryRun: true})
		if !errors.Is(err, archive.ErrBadSignature) {
			t.Fatalf("err = %v, want ErrBadSignature", err)
		}
	})
}

func TestPatchMirrorOverride(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-2")}}}})
	spec := simpleImage(t, repo, nil, hello("1.0-1"))
	spec.SourcesList = "deb http://deb.debian.org/debian bookworm main\n"
	img := patchtest.Image(t, spec)
	p := newPatcher(t, apt.Options{Mirrors: map[string]string{"http://deb.debian.org/debian/": repo.URL}})
	_, out := patchImage(t, p, img, helloFinding)
	if len(out.Updates) != 1 {
		t.Fatalf("updates = %+v", out.Updates)
	}
}
