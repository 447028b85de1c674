package imagefs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Entry is one tar entry of a layer, its name already validated.
type Entry struct {
	// Path is the entry's clean path relative to the root ("" is the root).
	Path string
	// Header is the tar header as read.
	Header *tar.Header
}

// WalkLayer streams the entries of one layer to fn in archive order, never
// holding the layer in memory. fn may read the entry's body from body until
// it returns. ctx is checked between entries. Entry names (and hard-link
// targets) that are absolute or climb out of the root are errors, and so is a
// broken or truncated archive; errors name the layer. WalkLayer returns the
// number of uncompressed bytes read.
func WalkLayer(ctx context.Context, layer v1.Layer, fn func(e Entry, body io.Reader) error) (int64, error) {
	ref, err := layerRef(layer, 0)
	if err != nil {
		return 0, err
	}
	return walk(ctx, layer, ref, fn)
}

// layerRef reads the identity of a layer.
func layerRef(l v1.Layer, index int) (Layer, error) {
	d, err := l.Digest()
	if err != nil {
		return Layer{}, fmt.Errorf("layer %d: digest: %w", index, err)
	}
	id, err := l.DiffID()
	if err != nil {
		return Layer{}, fmt.Errorf("layer %d (%s): diffID: %w", index, d, err)
	}
	return Layer{Index: index, Digest: d, DiffID: id}, nil
}

// walk is WalkLayer with the layer's identity already known.
func walk(ctx context.Context, l v1.Layer, ref Layer, fn func(Entry, io.Reader) error) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", ref, err)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return 0, fmt.Errorf("%s: open: %w", ref, err)
	}
	defer func() { _ = rc.Close() }()
	cr := &countingReader{r: rc}
	tr := tar.NewReader(cr)
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return cr.n, fmt.Errorf("%s: %w", ref, err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return cr.n, nil
		}
		if err != nil {
			return cr.n, fmt.Errorf("%s: tar entry %d: %w", ref, n, err)
		}
		p, err := cleanEntryName(hdr.Name)
		if err != nil {
			return cr.n, fmt.Errorf("%s: tar entry %d: %w", ref, n, err)
		}
		if hdr.Typeflag == tar.TypeLink {
			if _, err := cleanEntryName(hdr.Linkname); err != nil {
				return cr.n, fmt.Errorf("%s: %s: hard link target: %w", ref, p, err)
			}
		}
		if err := fn(Entry{Path: p, Header: hdr}, tr); err != nil {
			return cr.n, fmt.Errorf("%s: %s: %w", ref, p, err)
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

// Read implements io.Reader.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
