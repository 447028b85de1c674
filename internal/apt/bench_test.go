package apt_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"

	"github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/heap"
)

// benchParagraphs is the size of the benchmark index: bookworm's main
// Packages for amd64 has 63,440 paragraphs.
const benchParagraphs = 63440

// BenchmarkIndexLoad loads a bookworm-sized Packages.gz (63,440 synthetic
// paragraphs, ~55 MB uncompressed; .xz is listed too, as Debian does) from a loopback repository and looks
// up one package:
//   - parse: an empty cache (download, xz, deb822 parse, parsed index
//     written);
//   - disk: a new client on a cache holding the parsed index (what every
//     `patchloop patch` process after the first does);
//   - memory: the same client again (what every task of a long-running
//     process after the first does).
//
// It reports seconds per load and the peak heap in use.
func BenchmarkIndexLoad(b *testing.B) {
	repo := aptrepo.New(b, aptrepo.Config{
		IndexFormats: []compression.Format{compression.Gzip, compression.XZ},
		Suites: []aptrepo.Suite{{Name: "bookworm", Synthetic: benchParagraphs,
			Packages: []aptrepo.Package{{Name: "hello", Version: "1.0-2"}}}},
	})
	kr, err := apt.ParseKeyring(repo.Keyring)
	if err != nil {
		b.Fatal(err)
	}
	srcs := []apt.Source{{URI: repo.URL, Suite: "bookworm", Components: []string{"main"}, Keyring: kr}}
	primed := b.TempDir()
	shared := benchClient(b, primed)
	load := func(b *testing.B, c *apt.Client) {
		ix, err := c.LoadIndex(context.Background(), srcs, "amd64")
		if err != nil {
			b.Fatal(err)
		}
		if got := ix.Candidates("hello"); len(got) != 1 {
			b.Fatalf("hello candidates = %d, want 1", len(got))
		}
	}
	load(b, shared)
	for _, mode := range []string{"parse", "disk", "memory"} {
		b.Run(mode, func(b *testing.B) {
			var m heap.Meter
			for b.Loop() {
				b.StopTimer()
				c := shared
				switch mode {
				case "parse":
					c = benchClient(b, b.TempDir())
				case "disk":
					c = benchClient(b, primed)
				}
				m.Measure(b, func() { load(b, c) })
			}
			m.Report(b, "load")
		})
	}
}

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkParsePackages decompresses and parses the benchmark index into
// memory with ParsePackages, as every patch did before parsed indexes
// were kept (the cost the cache saves), for each compression.
func BenchmarkParsePackages(b *testing.B) {
	raw := aptrepo.SyntheticStanzas(benchParagraphs, "amd64")
	compressed := map[compression.Format][]byte{compression.None: raw}
	for _, f := range []compression.Format{compression.Gzip, compression.XZ} {
		var buf bytes.Buffer
		w, err := compression.NewWriter(&buf, f)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(raw); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		compressed[f] = buf.Bytes()
		b.Logf("index: %d paragraphs, %d bytes, %d bytes %s", benchParagraphs, len(raw), buf.Len(), f)
	}
	for _, f := range []compression.Format{compression.None, compression.Gzip, compression.XZ} {
		name := string(f)
		if f == compression.None {
			name = "uncompressed"
		}
		b.Run(name, func(b *testing.B) {
			data := compressed[f]
			var peak uint64
			for b.Loop() {
				runtime.GC()
				stop := heap.Sample()
				zr, err := compression.NewReader(bytes.NewReader(data), f)
				if err != nil {
					b.Fatal(err)
				}
				pkgs, err := apt.ParsePackages(context.Background(), zr)
				if err != nil || len(pkgs) != benchParagraphs {
					b.Fatalf("parsed %d packages, %v", len(pkgs), err)
				}
				peak = max(peak, stop())
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

func benchClient(b *testing.B, dir string) *apt.Client {
	b.Helper()
	c, err := apt.NewClient(apt.Options{CacheDir: dir, Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	return c
}
