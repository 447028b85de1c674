package apt_test

import (
	"fmt"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// BenchmarkPatch measures patching one package. Its index sub-benchmarks
// are described at benchmarkPatchIndex; the others patch one package of a ~500 MB image (5 filler layers
// of 100 MB, uncompressed or gzip-compressed, then the Debian layers),
// from a loopback repository with a cold package cache: planning,
// download, layer, and the patched image's digest. It reports seconds per
// patch and the peak heap in use.
func BenchmarkPatch(b *testing.B) {
	patchtest.BenchCompressions(b, benchmarkPatch)
	b.Run("index", benchmarkPatchIndex)
}

func benchmarkPatch(b *testing.B, gz bool) {
	below := patchtest.FillerLayers(b, gz)
	repo := aptrepo.New(b, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-2")}}}})
	var installed []aptrepo.Package
	installed = append(installed, hello("1.0-1"))
	for i := range 150 {
		installed = append(installed, aptrepo.Package{Name: fmt.Sprintf("pkg%03d", i), Version: "1.0-1"})
	}
	img := patchtest.Image(b, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    installed,
		SourcesList: sourcesFor(repo, "bookworm"),
		Keyring:     repo.Keyring,
		Below:       below,
	})
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-0001", PkgName: "hello", InstalledVersion: "1.0-1", FixedVersion: "1.0-2"}}
	patchtest.BenchPatch(b, img, fs, func(cacheDir string) (patch.Patcher, error) {
		return apt.New(apt.Options{CacheDir: cacheDir, Logger: quiet})
	})
}
