package rpm

import (
	"bufio"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Decompress returns a reader of the data r holds compressed with the
// named compressor, as PAYLOADCOMPRESSOR names them ("gzip", "bzip2",
// "xz", "lzma", "zstd"; "" or "identity" for none). The caller closes
// the result. A stream asking for a dictionary or window over 256 MiB is
// refused before the decoder allocates it (xz: one stream, every block
// header checked as it passes).
func Decompress(compressor string, r io.Reader) (io.ReadCloser, error) {
	switch compressor {
	case "", "identity":
		return io.NopCloser(r), nil
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case "bzip2":
		return io.NopCloser(bzip2.NewReader(r)), nil
	case "xz":
		zr, err := xz.ReaderConfig{SingleStream: true}.NewReader(newXZGuard(r))
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		return io.NopCloser(zr), nil
	case "lzma":
		br := bufio.NewReader(r)
		head, _ := br.Peek(13)
		if err := checkLZMAHeader(head); err != nil {
			return nil, err
		}
		zr, err := lzma.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("lzma: %w", err)
		}
		return io.NopCloser(zr), nil
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxDictionary))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("compressor %q is not supported (want gzip, bzip2, xz, lzma or zstd)", compressor)
}
