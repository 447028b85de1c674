package workflow

import (
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
