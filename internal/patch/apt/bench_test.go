package apt_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/heap"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// BenchmarkPatch measures patching one package. Its index sub-benchmarks
// are described at benchmarkPatchIndex; the others patch one package of a ~500 MB image (5 filler layers
// of 100 MB, uncompressed or gzip-compressed, then the Debian layers),
// from a loopback repository with a cold package cache: planning,
// download, layer, and the patched image's digest. It reports seconds per
// patch and the peak heap in use.
func BenchmarkPatch(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := "uncompressed"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) { benchmarkPatch(b, gz) })
	}
	b.Run("index", benchmarkPatchIndex)
}

func benchmarkPatch(b *testing.B, gz bool) {
	dir := b.TempDir()
	var below []v1.Layer
	for i := range 5 {
		below = append(below, imagetest.FillerLayer(b, dir, i, 100, 1<<20, gz))
	}
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
	ctx := context.Background()
	var total time.Duration
	var peak uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		p, err := apt.New(apt.Options{CacheDir: b.TempDir(), Logger: quiet})
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
