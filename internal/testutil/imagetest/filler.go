package imagetest

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// FillerLayer writes a layer of n files of size bytes each (under
// opt/filler<index>/) into dir, quickly (zero-filled content),
// uncompressed or gzip-compressed, and returns it: the bulk of benchmark
// images, kept out of the Go heap.
func FillerLayer(b testing.TB, dir string, index, n int, size int64, gz bool) v1.Layer {
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
		return FileLayer(b, p)
	}
	l, err := tarball.LayerFromFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return l
}
