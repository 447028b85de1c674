package apk_test

import (
	"fmt"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	apkpatch "github.com/patchloop/patchloop/internal/patch/apk"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
)

// BenchmarkPatch patches one package of a ~500 MB Alpine image (5 filler
// layers of 100 MB, uncompressed or gzip-compressed, under the Alpine
// layers with 150 installed packages), from a loopback repository with a
// cold package cache: planning, download, layer, and the patched image's
// digest. It reports seconds per patch and the peak heap in use, like the
// apt patcher's BenchmarkPatch.
func BenchmarkPatch(b *testing.B) {
	patchtest.BenchCompressions(b, benchmarkPatch)
}

func benchmarkPatch(b *testing.B, gz bool) {
	below := patchtest.FillerLayers(b, gz)
	hello := func(v string) apkrepo.Package {
		return apkrepo.Package{Name: "hello", Version: v, Depends: []string{"so:libc.musl-x86_64.so.1"},
			Files: []apkrepo.File{{Path: "usr/bin/hello", Body: "hello " + v, Mode: 0o755}, {Path: "etc/hello.conf", Body: "x=1\n"}}}
	}
	installed := []apkrepo.Package{musl, hello("1.0-r0")}
	for i := range 150 {
		installed = append(installed, apkrepo.Package{Name: fmt.Sprintf("pkg%03d", i), Version: "1.0-r0",
			Files: []apkrepo.File{{Path: fmt.Sprintf("usr/share/pkg%03d/README", i), Body: "readme"}}})
	}
	srv := apkrepo.New(b, apkrepo.Config{Repositories: []apkrepo.Repository{{Path: mainRepo, Packages: append([]apkrepo.Package{hello("1.0-r1")}, installed...)}}})
	img := apkrepo.Image(b, apkrepo.ImageSpec{Packages: installed, Repositories: []string{srv.RepoURL(mainRepo)}, Below: below})
	fs := []patch.Finding{{VulnerabilityID: "CVE-2026-0001", PkgName: "hello", InstalledVersion: "1.0-r0", FixedVersion: "1.0-r1"}}
	patchtest.BenchPatch(b, img, fs, func(cacheDir string) (patch.Patcher, error) {
		return apkpatch.New(apkpatch.Options{CacheDir: cacheDir, Logger: quiet})
	})
}
