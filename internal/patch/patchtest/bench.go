package patchtest

import (
	"context"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/testutil/heap"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// BenchCompressions runs fn as the sub-benchmarks "uncompressed" and
// "gzip": the compression of the filler layers under the benchmark image.
func BenchCompressions(b *testing.B, fn func(b *testing.B, gz bool)) {
	for _, gz := range []bool{false, true} {
		name := "uncompressed"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) { fn(b, gz) })
	}
}

// FillerLayers returns the five 100 MB layers of random files every
// patcher's BenchmarkPatch puts under its image, to make it ~500 MB.
func FillerLayers(b testing.TB, gz bool) []v1.Layer {
	dir := b.TempDir()
	var out []v1.Layer
	for i := range 5 {
		out = append(out, imagetest.FillerLayer(b, dir, i, 100, 1<<20, gz))
	}
	return out
}

// BenchPatch patches img for fs b.N times, each with a patcher newPatcher
// builds on a new cache directory (a cold cache: the packages are
// downloaded each time), up to the patched image's digest, and reports
// seconds per patch and the peak heap in use (peak-heap-MB).
func BenchPatch(b *testing.B, img v1.Image, fs []patch.Finding, newPatcher func(cacheDir string) (patch.Patcher, error)) {
	ctx := context.Background()
	var m heap.Meter
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		p, err := newPatcher(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		work := b.TempDir()
		m.Measure(b, func() {
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
		})
	}
	b.StopTimer()
	m.Report(b, "patch")
}
