package workflow

import (
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/rpmimage"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// TestCycleRocky runs a cycle over a Rocky 9-like image: the engine scans
// it, hands it to the rpm patcher (picked by OS family through the patcher
// registry) and pushes the patched image under the next tag.
func TestCycleRocky(t *testing.T) {
	f := newFixture(t)
	f.vulnDir = patchtest.WriteDatabase(t, "rocky 9", patchtest.Advisory{Source: "zlib", ID: "CVE-2026-6100", Fixed: "1.2.11-41.el9"})
	zlib := func(rel string) rpmrepo.Package {
		return rpmrepo.Package{Name: "zlib", Version: "1.2.11", Release: rel, Vendor: "Rocky Enterprise Software Foundation",
			Files: []rpmrepo.File{{Path: "/usr/lib64/libz.so.1", Content: []byte("zlib " + rel), Mode: 0o755}}}
	}
	const repo = "rocky/9/BaseOS/x86_64/os"
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repo, Packages: []rpmrepo.Package{zlib("40.el9"), zlib("41.el9")}}}})
	img := rpmimage.Image(t, rpmimage.Spec{Packages: []rpmrepo.Package{zlib("40.el9")},
		Repos: map[string][]byte{"rocky.repo": rpmrepo.RepoFile("baseos", srv.RepoURL(repo))}})
	f.cycleOneImage(t, img, "rocky-app")
	if n := srv.Hits(rpmrepo.PackagePath(repo, zlib("41.el9"))); n != 1 {
		t.Errorf("package fetched %d times, want 1", n)
	}
}

// TestCycleRPMRefusalStaysWithItsImage: in one cycle, an image whose
// repository serves a tampered package fails its patch, names the
// package, and gets no tag, while the other image is patched.
func TestCycleRPMRefusalStaysWithItsImage(t *testing.T) {
	f := newFixture(t)
	f.vulnDir = patchtest.WriteDatabase(t, "rocky 9", patchtest.Advisory{Source: "zlib", ID: "CVE-2026-6100", Fixed: "1.2.11-41.el9"})
	zlib := func(rel string) rpmrepo.Package {
		return rpmrepo.Package{Name: "zlib", Version: "1.2.11", Release: rel, Vendor: "Rocky Enterprise Software Foundation",
			Files: []rpmrepo.File{{Path: "/usr/lib64/libz.so.1", Content: []byte("zlib " + rel), Mode: 0o755}}}
	}
	const good, bad = "rocky/9/BaseOS/x86_64/os", "evil/9/BaseOS/x86_64/os"
	pkgs := []rpmrepo.Package{zlib("40.el9"), zlib("41.el9")}
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: good, Packages: pkgs}, {Path: bad, Packages: pkgs}}})
	pp := rpmrepo.PackagePath(bad, zlib("41.el9"))
	data := srv.File(pp)
	data[len(data)-10] ^= 0xff
	srv.SetFile(pp, data)
	for name, repo := range map[string]string{"rocky-app": good, "rocky-bad": bad} {
		f.push(t, rpmimage.Image(t, rpmimage.Spec{Packages: []rpmrepo.Package{zlib("40.el9")},
			Repos: map[string][]byte{"rocky.repo": rpmrepo.RepoFile("baseos", srv.RepoURL(repo))}}), name, "1.0")
	}

	e := f.start(t)
	f.create(t, e, configOf("incremental", "rocky-bad", "rocky-app"), false)
	f.runCycle(t, e, day)
	st := imageStatuses(t, e, f.host, "")
	if app := st["rocky-app:1.0"]; app.Patch == nil || app.Patch.Status != StatusSucceeded || app.Patch.Result.PatchedImage != "rocky-app:1.0-1" {
		t.Errorf("rocky-app = %s", show(app))
	}
	if b := st["rocky-bad:1.0"]; b.Patch == nil || b.Patch.Status != StatusFailed || !strings.Contains(b.Patch.Error, "zlib-1.2.11-41.el9.x86_64") ||
		!strings.Contains(b.Patch.Error, "checksum") {
		t.Errorf("rocky-bad = %s", show(b))
	}
	if got := f.tags(t, "rocky-bad"); strings.Join(got, ",") != "1.0" {
		t.Errorf("rocky-bad tags = %v, want only 1.0", got)
	}
}
