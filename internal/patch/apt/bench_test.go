package apt_test

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/heap"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// fillerLayer writes a layer of n files of size bytes each into dir,
// quickly (zero-filled content), uncompressed or gzip-compressed, and
// returns it.
func fillerLayer(b *testing.B, dir string, index, n int, size int64, gz bool) v1.Layer {
	b.Helper()
	p := filepath.Join(dir, fmt.Sprintf("filler-%d-%v.tar", index, gz))
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var out io.Writer = w
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = zw
	}
	tw := tar.NewWriter(out)
	zero := make([]byte, 1<<20)
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("opt/filler%d/", index), Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("opt/filler%d/f%05d", index, i), Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
			b.Fatal(err)
		}
		for left := size; left > 0; left -= int64(len(zero)) {
			if _, err := tw.Write(zero[:min(left, int64(len(zero)))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if !gz {
		return imagetest.FileLayer(b, p)
	}
	l, err := tarball.LayerFromFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkPatch patches one package of a ~500 MB image (5 filler layers
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
}

func benchmarkPatch(b *testing.B, gz bool) {
	dir := b.TempDir()
	var below []v1.Layer
	for i := range 5 {
		below = append(below, fillerLayer(b, dir, i, 100, 1<<20, gz))
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
