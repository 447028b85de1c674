package workflow

import (
	"testing"

	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
)

// TestCycleAlpine runs a cycle over an Alpine 3.22 image: the engine
// scans it, hands it to the apk patcher (picked by OS family through the
// patcher registry) and pushes the patched image under the next tag.
func TestCycleAlpine(t *testing.T) {
	f := newFixture(t)
	f.vulnDir = patchtest.WriteDatabase(t, "alpine 3.22", patchtest.Advisory{Source: "zlib", ID: "CVE-2026-6000", Fixed: "1.3.1-r1"})
	zlib := func(v string) apkrepo.Package {
		return apkrepo.Package{Name: "zlib", Version: v, Files: []apkrepo.File{{Path: "lib/libz.so.1", Body: "zlib " + v}}}
	}
	srv := apkrepo.New(t, apkrepo.Config{Repositories: []apkrepo.Repository{{Path: "alpine/v3.22/main", Packages: []apkrepo.Package{zlib("1.3.1-r0"), zlib("1.3.1-r1")}}}})
	img := apkrepo.Image(t, apkrepo.ImageSpec{Packages: []apkrepo.Package{zlib("1.3.1-r0")}, Repositories: []string{srv.RepoURL("alpine/v3.22/main")}})
	f.cycleOneImage(t, img, "alpine-app")
	if n := srv.Fetches("alpine/v3.22/main/x86_64/zlib-1.3.1-r1.apk"); n != 1 {
		t.Errorf("package fetched %d times, want 1", n)
	}
}
