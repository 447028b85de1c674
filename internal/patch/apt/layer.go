package apt

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layerEntry is one entry of the patch layer.
type layerEntry struct {
	hdr tar.Header
	// data is generated content; otherwise the content, if any, is
	// spooled at off.
	data     []byte
	spooled  bool
	off, len int64
}

// layerBuilder collects the entries of the patch layer by literal path.
type layerBuilder struct {
	entries map[string]*layerEntry
	mtime   time.Time
}

// newLayerBuilder returns an empty layer.
func newLayerBuilder() *layerBuilder {
	return &layerBuilder{entries: map[string]*layerEntry{}}
}

// has reports whether the layer already has an entry at p.
func (b *layerBuilder) has(p string) bool { _, ok := b.entries[p]; return ok }

// put adds or replaces the entry at p.
func (b *layerBuilder) put(p string, e *layerEntry) {
	e.hdr.Name = p
	b.entries[p] = e
}

// checkNoEntryUnderSymlink fails when an entry sits below a symlink the
// layer itself creates: applying the layer would write through that link,
// wherever it points.
func (b *layerBuilder) checkNoEntryUnderSymlink() error {
	for p := range b.entries {
		for _, a := range ancestors(p) {
			if e, ok := b.entries[a]; ok && e.hdr.Typeflag == tar.TypeSymlink {
				return fmt.Errorf("/%s would be written through the symlink /%s -> %s that the packages create", p, a, e.hdr.Linkname)
			}
		}
	}
	return nil
}

// file adds a generated regular file owned by root.
func (b *layerBuilder) file(p string, mode int64, data []byte) {
	b.put(p, &layerEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data)), Uname: "root", Gname: "root"}, data: data})
}

// whiteout adds the entry that deletes p from the layers below.
func (b *layerBuilder) whiteout(p string) {
	dir, base := path.Split(p)
	b.file(dir+".wh."+base, 0o644, nil)
}

// write writes the layer: entries sorted by path, hard links after
// everything else so that their targets come first, every generated entry
// stamped with the builder's mtime, and no access or change times, so that
// the same entries always give the same bytes. It returns the digest of
// the uncompressed tar and of the gzip stream and the compressed size.
func (b *layerBuilder) write(ctx context.Context, w io.Writer, sp *spool) (diffID, digest v1.Hash, size int64, err error) {
	names := make([]string, 0, len(b.entries))
	for p := range b.entries {
		names = append(names, p)
	}
	slices.SortFunc(names, func(x, y string) int {
		lx, ly := b.entries[x].hdr.Typeflag == tar.TypeLink, b.entries[y].hdr.Typeflag == tar.TypeLink
		if lx != ly {
			if lx {
				return 1
			}
			return -1
		}
		return strings.Compare(x, y)
	})
	gzDigest := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, gzDigest)}
	zw, err := gzip.NewWriterLevel(cw, gzip.DefaultCompression)
	if err != nil {
		return v1.Hash{}, v1.Hash{}, 0, err
	}
	tarDigest := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, tarDigest))
	for i, p := range names {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return v1.Hash{}, v1.Hash{}, 0, err
			}
		}
		e := b.entries[p]
		h := e.hdr
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if h.ModTime.IsZero() {
			h.ModTime = b.mtime
		}
		h.ModTime = h.ModTime.UTC().Truncate(time.Second)
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return v1.Hash{}, v1.Hash{}, 0, fmt.Errorf("layer entry %s: %w", p, err)
		}
		switch {
		case e.spooled:
			_, err = io.Copy(tw, sp.section(e.off, e.len))
		case len(e.data) > 0:
			_, err = tw.Write(e.data)
		}
		if err != nil {
			return v1.Hash{}, v1.Hash{}, 0, fmt.Errorf("layer entry %s: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return v1.Hash{}, v1.Hash{}, 0, err
	}
	if err := zw.Close(); err != nil {
		return v1.Hash{}, v1.Hash{}, 0, err
	}
	diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(tarDigest.Sum(nil))}
	digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(gzDigest.Sum(nil))}
	return diffID, digest, cw.n, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

// Write writes p, counting it.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileLayer is a gzip-compressed layer stored in a file, its digests known.
type fileLayer struct {
	path           string
	diffID, digest v1.Hash
	size           int64
}

// Digest returns the digest of the compressed blob.
func (l *fileLayer) Digest() (v1.Hash, error) { return l.digest, nil }

// DiffID returns the digest of the uncompressed tar.
func (l *fileLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Compressed opens the blob.
func (l *fileLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }

// Uncompressed opens the tar stream.
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("layer %s: %w", l.digest, err)
	}
	return &gzipFile{Reader: zr, f: f}, nil
}

// Size returns the size of the compressed blob.
func (l *fileLayer) Size() (int64, error) { return l.size, nil }

// MediaType is the OCI gzip layer type; images of Docker media types
// override it when the layer is appended.
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

// gzipFile closes both the decompressor and the file.
type gzipFile struct {
	*gzip.Reader
	f *os.File
}

// Close closes the decompressor and the file.
func (g *gzipFile) Close() error {
	err := g.Reader.Close()
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeLayerFile writes the layer into a new file of dir.
func (b *layerBuilder) writeLayerFile(ctx context.Context, dir string, sp *spool) (*fileLayer, error) {
	f, err := os.CreateTemp(dir, "patchloop-layer-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("creating layer file: %w", err)
	}
	diffID, digest, size, err := b.write(ctx, f, sp)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("writing layer: %w", err)
	}
	return &fileLayer{path: f.Name(), diffID: diffID, digest: digest, size: size}, nil
}
