package apt_test

import (
	"slices"
	"testing"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// hello returns a version of the test package "hello": a binary, a
// library, a doc file, and, in version 1.0-1 only, a file later dropped.
func hello(version string) aptrepo.Package {
	files := []deb.File{
		{Path: "usr/bin/hello", Data: []byte("#!/bin/sh\necho hello " + version + "\n"), Mode: 0o755},
		file("usr/share/doc/hello/changelog", "hello "+version+"\n"),
	}
	if version == "1.0-1" {
		files = append(files, file("usr/share/hello/old-data", "dropped in 1.0-2\n"))
	}
	return aptrepo.Package{Name: "hello", Version: version, Files: files}
}

func TestPatchUpgradesVulnerablePackage(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-1")}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	img := patchtest.Image(t, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    []aptrepo.Package{hello("1.0-1"), {Name: "other", Version: "2.0-1"}},
		SourcesList: sourcesFor(repo, "bookworm", "bookworm-security"),
		Keyring:     repo.Keyring,
	})
	db := patchtest.Database(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"})
	fs := patchtest.Findings(t, img, db)
	if len(fs) != 1 {
		t.Fatalf("findings before patching = %+v, want one", fs)
	}
	patched, out := patchImage(t, newPatcher(t, apt.Options{}), img, fs)
	if len(out.Updates) != 1 || out.Updates[0].Name != "hello" || out.Updates[0].From != "1.0-1" || out.Updates[0].To != "1.0-2" {
		t.Fatalf("updates = %+v", out.Updates)
	}
	if !slices.Equal(out.Fixed, []string{"CVE-2024-0001"}) {
		t.Errorf("fixed = %v", out.Fixed)
	}
	mustNoFindings(t, patched, db)

	got := patchtest.ReadFiles(t, patched, "usr/bin/hello", "usr/share/hello/old-data", "var/lib/dpkg/status", "var/lib/dpkg/info/hello.list", "var/lib/dpkg/info/hello.md5sums")
	if got["usr/bin/hello"] != "#!/bin/sh\necho hello 1.0-2\n" {
		t.Errorf("usr/bin/hello = %q", got["usr/bin/hello"])
	}
	if _, ok := got["usr/share/hello/old-data"]; ok {
		t.Error("usr/share/hello/old-data, dropped by 1.0-2, is still there")
	}
	rec := record(t, got["var/lib/dpkg/status"], "hello")
	if rec.Get("Version") != "1.0-2" || rec.Get("Status") != "install ok installed" {
		t.Errorf("hello record = %+v", rec)
	}
	if other := record(t, got["var/lib/dpkg/status"], "other"); other.Get("Version") != "2.0-1" {
		t.Errorf("other record changed: %+v", other)
	}
	if want := "/.\n/usr\n/usr/bin\n/usr/bin/hello\n/usr/share\n/usr/share/doc\n/usr/share/doc/hello\n/usr/share/doc/hello/changelog\n"; got["var/lib/dpkg/info/hello.list"] != want {
		t.Errorf("hello.list = %q, want %q", got["var/lib/dpkg/info/hello.list"], want)
	}
	if got["var/lib/dpkg/info/hello.md5sums"] == "" {
		t.Error("hello.md5sums missing")
	}
	st := stat(t, patched, "usr/bin/hello")
	if n := st["usr/bin/hello"]; n.Mode.Perm() != 0o755 {
		t.Errorf("usr/bin/hello mode = %v", n.Mode)
	}
	if n := st["usr/bin/hello"]; n.Kind != imagefs.KindRegular {
		t.Errorf("usr/bin/hello kind = %v", n.Kind)
	}
}
