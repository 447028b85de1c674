package imagefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Magic bytes that open a gzip or zstd stream; a layer blob starting with
// neither is read as an uncompressed tar, as container runtimes do.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// inflateBuffer is the buffer between the blob and the gzip inflater.
const inflateBuffer = 64 << 10

// decompressor returns the uncompressed content of a layer blob read
// ahead by ra, told apart by its first bytes: gzip and zstd are inflated
// with klauspost/compress, anything else is passed on. Closing it does not
// close ra.
func decompressor(ra *readahead) (io.ReadCloser, error) {
	magic, err := ra.Peek(len(zstdMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		// The inflater has its fast path for a *bufio.Reader only.
		zr, err := gzip.NewReader(bufio.NewReaderSize(ra, inflateBuffer))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(magic, zstdMagic):
		// One decoder: no goroutine of its own reads ra.
		zr, err := zstd.NewReader(ra, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	default:
		return io.NopCloser(ra), nil
	}
}
