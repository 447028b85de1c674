package layer

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

// Entry is one entry of a layer.
type Entry struct {
	// Header is the tar header; Put sets its Name. A zero ModTime is
	// replaced by the Builder's ModTime when the layer is written.
	Header tar.Header
	// Data is generated content. Otherwise, when Spooled, the content is
	// the Len bytes at Off of the Spool given to Write.
	Data     []byte
	Spooled  bool
	Off, Len int64
}

// Builder collects the entries of a layer by literal path (relative to
// the image root, no leading slash) and writes them deterministically.
// It is not safe for concurrent use.
type Builder struct {
	entries map[string]*Entry
	// ModTime stamps every entry without a time of its own (generated
	// files, directories the layer creates).
	ModTime time.Time
}

// NewBuilder returns an empty layer.
func NewBuilder() *Builder {
	return &Builder{entries: map[string]*Entry{}}
}

// Has reports whether the layer already has an entry at p.
func (b *Builder) Has(p string) bool { _, ok := b.entries[p]; return ok }

// Get returns the entry at p, or nil.
func (b *Builder) Get(p string) *Entry { return b.entries[p] }

// Paths returns the paths of the entries, sorted.
func (b *Builder) Paths() []string {
	out := make([]string, 0, len(b.entries))
	for p := range b.entries {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Put adds or replaces the entry at p.
func (b *Builder) Put(p string, e *Entry) {
	e.Header.Name = p
	b.entries[p] = e
}

// CheckNoEntryUnderSymlink fails when an entry sits below a symlink the
// layer itself creates: applying the layer would write through that link,
// wherever it points.
func (b *Builder) CheckNoEntryUnderSymlink() error {
	for p := range b.entries {
		for _, a := range Ancestors(p) {
			if e, ok := b.entries[a]; ok && e.Header.Typeflag == tar.TypeSymlink {
				return fmt.Errorf("/%s would be written through the symlink /%s -> %s that the packages create", p, a, e.Header.Linkname)
			}
		}
	}
	return nil
}

// File adds a generated regular file owned by root.
func (b *Builder) File(p string, mode int64, data []byte) {
	b.Put(p, &Entry{Header: tar.Header{Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data)), Uname: "root", Gname: "root"}, Data: data})
}

// Dir adds a directory owned by root with mode 0755, for a parent a
// package does not list itself.
func (b *Builder) Dir(p string) {
	b.Put(p, &Entry{Header: tar.Header{Typeflag: tar.TypeDir, Mode: 0o755, Uname: "root", Gname: "root"}})
}

// Whiteout adds the entry that deletes p from the layers below.
func (b *Builder) Whiteout(p string) {
	dir, base := path.Split(p)
	b.File(dir+".wh."+base, 0o644, nil)
}

// Write writes the layer as a gzip stream: entries sorted by path, hard
// links after everything else so that their targets come first, every
// entry without a time stamped with ModTime, times truncated to seconds,
// PAX headers without access or change times, so that the same entries
// always give the same bytes. Spooled contents are read from sp (nil when
// there are none). It returns the digest of the uncompressed tar and of
// the gzip stream and the compressed size.
func (b *Builder) Write(ctx context.Context, w io.Writer, sp *Spool) (diffID, digest v1.Hash, size int64, err error) {
	names := make([]string, 0, len(b.entries))
	for p := range b.entries {
		names = append(names, p)
	}
	slices.SortFunc(names, func(x, y string) int {
		lx, ly := b.entries[x].Header.Typeflag == tar.TypeLink, b.entries[y].Header.Typeflag == tar.TypeLink
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
		h := e.Header
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if h.ModTime.IsZero() {
			h.ModTime = b.ModTime
		}
		h.ModTime = h.ModTime.UTC().Truncate(time.Second)
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return v1.Hash{}, v1.Hash{}, 0, fmt.Errorf("layer entry %s: %w", p, err)
		}
		switch {
		case e.Spooled:
			_, err = io.Copy(tw, sp.Section(e.Off, e.Len))
		case len(e.Data) > 0:
			_, err = tw.Write(e.Data)
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

// File is a gzip-compressed layer stored in a file, its digests known: a
// v1.Layer that reads nothing to answer Digest, DiffID or Size.
type File struct {
	path           string
	diffID, digest v1.Hash
	size           int64
}

// Digest returns the digest of the compressed blob.
func (l *File) Digest() (v1.Hash, error) { return l.digest, nil }

// DiffID returns the digest of the uncompressed tar.
func (l *File) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Compressed opens the blob.
func (l *File) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }

// Uncompressed opens the tar stream.
func (l *File) Uncompressed() (io.ReadCloser, error) {
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
func (l *File) Size() (int64, error) { return l.size, nil }

// MediaType is the OCI gzip layer type; images of Docker media types
// override it when the layer is appended.
func (l *File) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

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

// WriteFile writes the layer into a new file of dir (see Write). The file
// stays until the caller removes dir.
func (b *Builder) WriteFile(ctx context.Context, dir string, sp *Spool) (*File, error) {
	f, err := os.CreateTemp(dir, "patchloop-layer-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("creating layer file: %w", err)
	}
	diffID, digest, size, err := b.Write(ctx, f, sp)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("writing layer: %w", err)
	}
	return &File{path: f.Name(), diffID: diffID, digest: digest, size: size}, nil
}
