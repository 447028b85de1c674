// Package compression maps the compression formats used by Debian packages
// and APT indexes (none, gzip, xz, zstd, bzip2) to stream readers and
// writers, selected by file name suffix.
package compression

import (
	"bufio"
	"compress/bzip2"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Format is a compression format, named by its usual file suffix without
// the dot; None is the empty string.
type Format string

// The formats found in .deb members and APT indexes. Bzip2 can be read but
// not written.
const (
	None  Format = ""
	Gzip  Format = "gz"
	XZ    Format = "xz"
	Zstd  Format = "zst"
	Bzip2 Format = "bz2"
)

// Ext returns the file suffix of the format, with its dot ("" for None).
func (f Format) Ext() string {
	if f == None {
		return ""
	}
	return "." + string(f)
}

// Split separates a file name into its stem and compression format, so
// "data.tar.xz" gives ("data.tar", XZ). A name without a known suffix is
// returned whole with None.
func Split(name string) (stem string, f Format) {
	for _, f := range []Format{Gzip, XZ, Zstd, Bzip2} {
		if s, ok := strings.CutSuffix(name, f.Ext()); ok {
			return s, f
		}
	}
	return name, None
}

// maxZstdWindow bounds the memory a zstd stream may ask for; dpkg and APT
// never use windows larger than this.
const maxZstdWindow = 1 << 30

// NewReader returns a reader of the decompressed content of r. The caller
// must Close it to release decoder resources; closing does not close r.
// The decoder may read r ahead of the compressed stream's end.
func NewReader(r io.Reader, f Format) (io.ReadCloser, error) {
	switch f {
	case None:
		return io.NopCloser(r), nil
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case XZ:
		// The xz decoder reads one byte per call from a reader that is
		// not an io.ByteReader: one system call per byte on a file.
		if _, ok := r.(io.ByteReader); !ok {
			r = bufio.NewReaderSize(r, 64<<10)
		}
		zr, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		return io.NopCloser(zr), nil
	case Zstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	case Bzip2:
		return io.NopCloser(bzip2.NewReader(r)), nil
	}
	return nil, fmt.Errorf("unsupported compression %q", string(f))
}

// NewWriter returns a writer that compresses into w. Output is
// deterministic: the same input always gives the same bytes. The caller
// must Close it to flush; closing does not close w.
func NewWriter(w io.Writer, f Format) (io.WriteCloser, error) {
	switch f {
	case None:
		return nopWriteCloser{w}, nil
	case Gzip:
		// The standard library writes gzip so that output stays byte for
		// byte what earlier versions wrote; klauspost reads it faster.
		return stdgzip.NewWriterLevel(w, stdgzip.BestCompression)
	case XZ:
		zw, err := xz.NewWriter(w)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		return zw, nil
	case Zstd:
		zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zw, nil
	}
	return nil, fmt.Errorf("cannot write compression %q", string(f))
}

type nopWriteCloser struct{ io.Writer }

// Close does nothing: there is nothing to flush.
func (nopWriteCloser) Close() error { return nil }
