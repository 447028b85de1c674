package apk_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/patch"
	apkpatch "github.com/patchloop/patchloop/internal/patch/apk"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
	"github.com/patchloop/patchloop/internal/testutil/heap"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// BenchmarkPatch patches one package of a ~500 MB Alpine image (5 filler
// layers of 100 MB, uncompressed or gzip-compressed, under the Alpine
// layers with 150 installed packages), from a loopback repository with a
// cold package cache: planning, download, layer, and the patched image's
// digest. It reports seconds per patch and the peak heap in use, like the
// apt patcher's BenchmarkPatch.
func BenchmarkPatch(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := "uncompressed"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) { benchmarkPatch(b, gz) })
	}
}

func benchmarkPatch(b *testing.B, gz bool) {
	dir := b.TempDir()
	var below []v1.Layer
	for i := range 5 {
		below = append(below, imagetest.FillerLayer(b, dir, i, 100, 1<<20, gz))
	}
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
	ctx := context.Background()
	var total time.Duration
	var peak uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		p, err := apkpatch.New(apkpatch.Options{CacheDir: b.TempDir(), Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		work := b.TempDir()
		runtime.GC()
		stopHeap := heap.Sample()
		start := time.Now()
		b.StartTimer()

		out, err := p.Patch(ctx, img, patch.Request{Findings: fs, WorkDir: work})
		if err != nil {
			b.Fatal(err)
		}
		if out.Layer == nil {
			b.Fatalf("nothing patched: %+v", out)
		}
		base, _ := img.Digest()
		patched, err := patch.AppendLayer(img, out.Layer, out.LayerHistory, patch.Base{Name: "bench", Digest: base}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := patched.Digest(); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		total += time.Since(start)
		peak = max(peak, stopHeap())
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(total.Seconds()/float64(b.N), "s/patch")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
