package ospkg_test

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/testutil/heap"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// BenchmarkInspect inspects a 20-layer image of about 500 MB kept in
// uncompressed tar files on disk: 18 layers of random (incompressible)
// data, a Debian base and, on top, an apt-get layer updating
// var/lib/dpkg/status.
//
//   - top: the base sits in layer 18 of 20, so Inspect must stop after the
//     three top layers and never open the 17 data layers below.
//   - status.d-at-bottom: the same data under a distroless top layer (no
//     status file) with a status.d file in the bottom layer, so all 500 MB
//     must be streamed; this shows the heap stays flat however much is read.
func BenchmarkInspect(b *testing.B) {
	dir := b.TempDir()
	rng := rand.NewChaCha8([32]byte{'p', 'a', 't', 'c', 'h', 'l', 'o', 'o', 'p'})
	const dataLayers, dataSize = 18, 27 << 20
	var data []v1.Layer
	for i := range dataLayers {
		data = append(data, writeLayer(b, dir, fmt.Sprintf("data%02d", i), func(tw *tar.Writer) {
			writeEntry(b, tw, fmt.Sprintf("opt/data%02d/blob.bin", i), dataSize, rng)
		}))
	}
	files := func(name string, m map[string]string) v1.Layer {
		return writeLayer(b, dir, name, func(tw *tar.Writer) {
			for p, c := range m {
				writeEntry(b, tw, p, int64(len(c)), stringReader(c))
			}
		})
	}
	base := files("base", map[string]string{
		"etc/debian_version": "12.5\n", "etc/os-release": debianOSRelease, "var/lib/dpkg/status": debianBaseStatus,
	})
	app := files("app", map[string]string{"var/lib/dpkg/status": debianAppStatus, "usr/bin/openssl": "ELF"})
	distroless := files("distroless", map[string]string{"etc/debian_version": "12.5\n", "etc/os-release": debianOSRelease})
	statusD := files("statusd", map[string]string{"var/lib/dpkg/status.d/tzdata": "Package: tzdata\nVersion: 2024a-0+deb12u1\n"})

	b.Run("top", func(b *testing.B) {
		// data00..data16, base, data17, app: the package db is in the top layers.
		layers := append(append(append([]v1.Layer{}, data[:17]...), base, data[17]), app)
		runInspect(b, it.Image(b, layers...), 4)
	})
	b.Run("status.d-at-bottom", func(b *testing.B) {
		layers := append(append([]v1.Layer{statusD}, data...), distroless)
		runInspect(b, it.Image(b, layers...), 1)
	})
}

// runInspect benchmarks Inspect on img and reports the MB read, the layers
// opened and the peak heap in use, per operation.
func runInspect(b *testing.B, img v1.Image, wantPackages int) {
	var mb, opened, peak float64
	b.ResetTimer()
	for range b.N {
		counted, counter := it.Count(img)
		stop := heap.Sample()
		inv, err := ospkg.Inspect(context.Background(), counted)
		p := stop()
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Packages) != wantPackages {
			b.Fatalf("%d packages, want %d", len(inv.Packages), wantPackages)
		}
		mb += float64(counter.BytesRead()) / (1 << 20)
		opened += float64(counter.Total())
		peak = max(peak, float64(p)/(1<<20))
	}
	b.ReportMetric(mb/float64(b.N), "MB-read/op")
	b.ReportMetric(opened/float64(b.N), "layers-opened/op")
	b.ReportMetric(peak, "peak-heap-MB")
}

// writeLayer writes a tar file into dir and returns it as a layer.
func writeLayer(b *testing.B, dir, name string, fill func(*tar.Writer)) v1.Layer {
	p := filepath.Join(dir, name+".tar")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	fill(tw)
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return it.FileLayer(b, p)
}

// writeEntry writes a regular file of size bytes taken from r.
func writeEntry(b *testing.B, tw *tar.Writer, name string, size int64, r io.Reader) {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(tw, r, size); err != nil {
		b.Fatal(err)
	}
}

// stringReader returns a reader of s.
func stringReader(s string) io.Reader { return &stringSrc{s: s} }

type stringSrc struct{ s string }

func (r *stringSrc) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}
