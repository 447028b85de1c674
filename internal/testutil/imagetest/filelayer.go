package imagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FileLayer returns an uncompressed layer backed by a tar file on disk, so
// that large benchmark images stay out of the Go heap. The file is hashed
// once, here.
func FileLayer(tb testing.TB, path string) v1.Layer {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("imagetest: %v", err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		tb.Fatalf("imagetest: hash %s: %v", path, err)
	}
	return &fileLayer{path: path, size: n, id: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}}
}

// fileLayer is an uncompressed layer stored in a file.
type fileLayer struct {
	path string
	size int64
	id   v1.Hash
}

// Digest equals the diffID: the blob is stored uncompressed.
func (l *fileLayer) Digest() (v1.Hash, error) { return l.id, nil }

// DiffID returns the digest of the tar file.
func (l *fileLayer) DiffID() (v1.Hash, error) { return l.id, nil }

// Compressed opens the tar file (stored uncompressed).
func (l *fileLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }

// Uncompressed opens the tar file.
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.path) }

// Size returns the file size.
func (l *fileLayer) Size() (int64, error) { return l.size, nil }

// MediaType returns the uncompressed Docker layer media type.
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.DockerUncompressedLayer, nil }
