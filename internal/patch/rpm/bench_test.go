package rpm_test

import (
	"fmt"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	rpmpatch "github.com/patchloop/patchloop/internal/patch/rpm"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/testutil/rpmimage"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// BenchmarkPatch patches one package of a ~500 MB Rocky 9-like image (5
// filler layers of 100 MB, uncompressed or gzip-compressed, under the
// image's layers with 150 installed packages in an SQLite rpmdb), from a
// signed loopback repository with a cold package cache: repository
// metadata, planning, download and verification, layer, database, and the
// patched image's digest. It reports seconds per patch and the peak heap
// in use, like the apt and apk patchers' BenchmarkPatch.
func BenchmarkPatch(b *testing.B) {
	patchtest.BenchCompressions(b, benchmarkPatch)
}

func benchmarkPatch(b *testing.B, gz bool) {
	installed := rocky(rockyRelease, bash, helloOld)
	for i := range 150 {
		installed = append(installed, rocky(rpmrepo.Package{Name: fmt.Sprintf("pkg%03d", i), Version: "1.0", Release: "1.el9",
			Requires: []rpm.Dep{dep("/usr/bin/sh")},
			Files:    []rpmrepo.File{file(fmt.Sprintf("/usr/share/pkg%03d/README", i), "readme")}})...)
	}
	srv := rpmrepo.New(b, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: baseRepo, Packages: append(rocky(helloNew), installed...)}}})
	img := rpmimage.Image(b, rpmimage.Spec{Packages: installed, Below: patchtest.FillerLayers(b, gz),
		Repos: map[string][]byte{"rocky.repo": rpmrepo.RepoFile("baseos", srv.RepoURL(baseRepo))}})
	fs := []patch.Finding{{VulnerabilityID: "CVE-2026-2000", PkgName: "hello", InstalledVersion: "1.0-1.el9", FixedVersion: "1.0-2.el9"}}
	patchtest.BenchPatch(b, img, fs, func(cacheDir string) (patch.Patcher, error) {
		return rpmpatch.New(rpmpatch.Options{CacheDir: cacheDir, Logger: benchLog})
	})
}
