package imagetest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer returns a gzip-compressed in-memory layer holding the entries.
func Layer(tb testing.TB, entries ...Entry) v1.Layer {
	tb.Helper()
	return GzipLayer(tb, Tar(tb, entries...))
}

// FilesLayer returns a layer holding regular files (and their parent
// directories), given as path to content.
func FilesLayer(tb testing.TB, files map[string]string) v1.Layer {
	tb.Helper()
	return Layer(tb, FileEntries(files)...)
}

// GzipLayer returns a gzip-compressed in-memory layer of a raw tar archive.
func GzipLayer(tb testing.TB, tarball []byte) v1.Layer {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(tarball); err != nil {
		tb.Fatalf("imagetest: gzip: %v", err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatalf("imagetest: gzip: %v", err)
	}
	return &memLayer{blob: buf.Bytes(), diffID: sha(tarball), gz: true}
}

// StoredGzipLayer returns a gzip layer of the entries written without
// compression (stored blocks), so that archives of the same length give
// blobs of the same length: for tests that swap one layer's blob for
// another's.
func StoredGzipLayer(tb testing.TB, entries ...Entry) v1.Layer {
	tb.Helper()
	tarball := Tar(tb, entries...)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	if err != nil {
		tb.Fatalf("imagetest: gzip: %v", err)
	}
	if _, err := zw.Write(tarball); err != nil {
		tb.Fatalf("imagetest: gzip: %v", err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatalf("imagetest: gzip: %v", err)
	}
	return &memLayer{blob: buf.Bytes(), diffID: sha(tarball), gz: true}
}

// TruncatedLayer returns a gzip layer of the entries whose compressed
// stream is cut in half, as a broken download would leave it.
func TruncatedLayer(tb testing.TB, entries ...Entry) v1.Layer {
	tb.Helper()
	full := GzipLayer(tb, Tar(tb, entries...)).(*memLayer)
	return &memLayer{blob: full.blob[:len(full.blob)/2], diffID: full.diffID, gz: true}
}

// RawLayer returns an uncompressed in-memory layer of raw tar bytes (which
// need not be a valid archive).
func RawLayer(tarball []byte) v1.Layer {
	return &memLayer{blob: tarball, diffID: sha(tarball)}
}

// memLayer is an in-memory layer, gzip-compressed or not.
type memLayer struct {
	blob   []byte
	diffID v1.Hash
	gz     bool
}

// Digest returns the digest of the stored blob.
func (l *memLayer) Digest() (v1.Hash, error) {
	if !l.gz {
		return l.diffID, nil
	}
	return sha(l.blob), nil
}

// DiffID returns the digest of the uncompressed tar.
func (l *memLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Compressed returns the stored blob.
func (l *memLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}

// Uncompressed returns the tar stream, decompressing on the fly.
func (l *memLayer) Uncompressed() (io.ReadCloser, error) {
	if !l.gz {
		return io.NopCloser(bytes.NewReader(l.blob)), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(l.blob))
	if err != nil {
		return nil, err
	}
	return zr, nil
}

// Size returns the size of the stored blob.
func (l *memLayer) Size() (int64, error) { return int64(len(l.blob)), nil }

// MediaType returns the Docker layer media type matching the compression.
func (l *memLayer) MediaType() (types.MediaType, error) {
	if l.gz {
		return types.DockerLayer, nil
	}
	return types.DockerUncompressedLayer, nil
}

// sha returns the sha256 Hash of b.
func sha(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}
