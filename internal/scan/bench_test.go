package scan_test

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/registry/embedded"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/testutil/heap"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// BenchmarkScan scans a 20-layer image of about 500 MB (gzip layers: a
// Debian base at the bottom, 18 layers of 27 MB of random data, and an
// apt-get layer rewriting var/lib/dpkg/status on top) served by the
// embedded registry with filesystem storage on loopback, through
// Resolve and Scan as `patchloop scan` does. The base at the bottom makes
// Inspect stream every layer: the worst case.
//
//   - cold: no inventory cache; every layer is downloaded and decompressed.
//   - cached: the inventory cache already knows the image (a rescan after a
//     database update); no layer is read.
//
// It reports seconds per scan (s/op), the process's CPU seconds per scan
// (cpu-s/op, steadier than s/op on a shared machine), layers read and the
// peak heap in use. PATCHLOOP_BENCH_CPUPROFILE=file profiles the scans only.
func BenchmarkScan(b *testing.B) {
	ref := pushBenchImage(b)
	db := openDB(b, database())
	client := registry.New()
	cache, err := ospkg.NewDirCache(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cold", func(b *testing.B) { runBenchScan(b, client, ref, db, nil) })
	b.Run("cached", func(b *testing.B) {
		if _, err := benchScanOnce(client, ref, db, cache); err != nil { // fills the cache
			b.Fatal(err)
		}
		runtime.GC()
		b.ResetTimer()
		runBenchScan(b, client, ref, db, cache)
	})
}

// benchScanOnce resolves and scans ref as `patchloop scan` does.
func benchScanOnce(client *registry.Client, ref string, db *vulndb.DB, cache ospkg.Cache) (*scan.Report, error) {
	ctx := context.Background()
	targets, err := scan.Resolve(ctx, client, ref, nil)
	if err != nil {
		return nil, err
	}
	// The benchmark's own log lines would drown its results.
	opts := scan.Options{Now: clock, Logger: slog.New(slog.DiscardHandler)}
	if cache != nil {
		opts.Cache = cache
	}
	return scan.Scan(ctx, targets[0].Image, db, targets[0].Options(opts))
}

func runBenchScan(b *testing.B, client *registry.Client, ref string, db *vulndb.DB, cache ospkg.Cache) {
	var peak, layers float64
	defer profile(b)()
	cpu := cpuTime()
	start := time.Now()
	for range b.N {
		stop := heap.Sample()
		rep, err := benchScanOnce(client, ref, db, cache)
		p := stop()
		if err != nil {
			b.Fatal(err)
		}
		if n := len(rep.Vulnerabilities()); n != 2 {
			b.Fatalf("%d findings, want 2", n)
		}
		layers += float64(rep.Stats.LayersRead)
		peak = max(peak, float64(p)/(1<<20))
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/op")
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(layers/float64(b.N), "layers-read/op")
	b.ReportMetric(peak, "peak-heap-MB")
}

// pushBenchImage builds the benchmark image in tar files, pushes it to an
// embedded registry storing blobs on disk and returns its reference.
func pushBenchImage(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	rng := rand.NewChaCha8([32]byte{'s', 'c', 'a', 'n'})
	var layers []v1.Layer
	layers = append(layers, tarLayer(b, dir, "base", map[string]string{
		"etc/os-release": debianOSRelease, "etc/debian_version": "12.5\n", "var/lib/dpkg/status": "Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u3\n",
	}, nil))
	for i := range 18 {
		layers = append(layers, tarLayer(b, dir, fmt.Sprintf("data%02d", i), nil, &randomFile{name: fmt.Sprintf("opt/data%02d/blob.bin", i), size: 27 << 20, r: rng}))
	}
	layers = append(layers, tarLayer(b, dir, "app", map[string]string{
		"var/lib/dpkg/status": "Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u3\n\n" +
			"Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n",
	}, nil))
	img := imagetest.Image(b, layers...)

	ref := diskRegistry(b, dir) + "/bench/debian:big"
	pushRef(b, ref, img)
	return ref
}

// diskRegistry starts an embedded registry storing blobs in dir and
// returns its host.
func diskRegistry(b *testing.B, dir string) string {
	b.Helper()
	h, cleanup, err := embedded.Handler(context.Background(), embedded.Options{Root: filepath.Join(dir, "registry")})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(func() { srv.Close(); cleanup() })
	return srv.Listener.Addr().String()
}

// pushRef pushes img under ref.
func pushRef(b *testing.B, ref string, img v1.Image) {
	b.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		b.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time the process has used so far (user and system,
// every goroutine: the registry's too): on a machine shared with other
// work it varies less than the elapsed time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// profile writes a CPU profile of the timed part of a benchmark to the
// file PATCHLOOP_BENCH_CPUPROFILE names (go test's -cpuprofile also covers
// building the image). It returns the function that stops it.
func profile(b *testing.B) func() {
	p := os.Getenv("PATCHLOOP_BENCH_CPUPROFILE")
	if p == "" {
		return func() {}
	}
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// randomFile is one file of random content.
type randomFile struct {
	name string
	size int64
	r    io.Reader
}

// tarLayer writes files (and rf) into a tar file and returns it as a gzip
// layer (fastest compression, as random data does not compress anyway).
func tarLayer(b *testing.B, dir, name string, files map[string]string, rf *randomFile) v1.Layer {
	b.Helper()
	p := filepath.Join(dir, name+".tar")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	write := func(n string, size int64, r io.Reader) {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyN(tw, r, size); err != nil {
			b.Fatal(err)
		}
	}
	for n, c := range files {
		write(n, int64(len(c)), strings.NewReader(c))
	}
	if rf != nil {
		write(rf.name, rf.size, rf.r)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	l, err := tarball.LayerFromFile(p, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkLayerCount scans images of 100 and 500 small layers (the
// most imagefs accepts) from the embedded registry, with the Debian base at
// the bottom so that every layer is read, and reports the time per layer:
// it stays flat when the work per layer does not grow with the layer count.
func BenchmarkLayerCount(b *testing.B) {
	db := openDB(b, database())
	client := registry.New()
	host := registrytest.Start(b)
	base := imagetest.FilesLayer(b, map[string]string{
		"etc/os-release": debianOSRelease, "etc/debian_version": "12.5\n", "var/lib/dpkg/status": debianStatus,
	})
	for _, n := range []int{100, 500} {
		layers := []v1.Layer{base}
		for i := 1; i < n; i++ {
			layers = append(layers, imagetest.FilesLayer(b, map[string]string{fmt.Sprintf("opt/f%03d", i): "x"}))
		}
		ref := fmt.Sprintf("%s/bench/layers:%d", host, n)
		registrytest.Push(b, ref, imagetest.Image(b, layers...))
		b.Run(fmt.Sprintf("layers=%d", n), func(b *testing.B) {
			start := time.Now()
			for range b.N {
				rep, err := benchScanOnce(client, ref, db, nil)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Stats.LayersRead != n {
					b.Fatalf("%d layers read, want %d", rep.Stats.LayersRead, n)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*n), "µs/layer")
		})
	}
}
