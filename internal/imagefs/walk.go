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
// broken or truncated archive; errors name the layer. After the last entry
// the layer is read to its end and checked: its blob against layer.Digest()
// and its uncompressed tar against layer.DiffID(); a difference is an error
// matching ErrDigestMismatch. WalkLayer returns the number of uncompressed
// bytes read.
func WalkLayer(ctx context.Context, layer v1.Layer, fn func(e Entry, body io.Reader) error) (int64, error) {
	d, err := describeLayer(layer)
	if err != nil {
		return 0, err
	}
	return walkVerified(ctx, v1.Hash{}, layer, d, fn, nil)
}

// describeLayer reads the identity of a layer from the layer itself.
func describeLayer(l v1.Layer) (layerDesc, error) {
	d, err := l.Digest()
	if err != nil {
		return layerDesc{}, fmt.Errorf("layer: digest: %w", err)
	}
	id, err := l.DiffID()
	if err != nil {
		return layerDesc{}, fmt.Errorf("layer %s: diffID: %w", d, err)
	}
	size, err := l.Size()
	if err != nil {
		return layerDesc{}, fmt.Errorf("layer %s: size: %w", d, err)
	}
	mt, err := l.MediaType()
	if err != nil {
		return layerDesc{}, fmt.Errorf("layer %s: media type: %w", d, err)
	}
	return layerDesc{Layer: Layer{Digest: d, DiffID: id}, size: size, mediaType: mt}, nil
}

// walkVerified walks layer l of image (described by d) and then checks its
// digests; with keep set, the uncompressed tar is copied to keep as it is
// read.
func walkVerified(ctx context.Context, image v1.Hash, l v1.Layer, d layerDesc, fn func(Entry, io.Reader) error, keep io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", d.Layer, err)
	}
	s, err := openLayer(image, l, d)
	if err != nil {
		return 0, fmt.Errorf("%s: open: %w", d.Layer, err)
	}
	defer func() { _ = s.Close() }()
	s.keep = keep
	n, err := walkTar(ctx, s, d.Layer, fn)
	if err != nil {
		if ctx.Err() != nil {
			return n, err
		}
		// A swapped blob usually breaks the tar format or decompression
		// first: report the mismatch, which is the real fault.
		var mm *DigestMismatchError
		if merr := s.explain(err); errors.As(merr, &mm) {
			return n, merr
		}
		return n, err
	}
	m, err := s.check()
	return n + m, err
}

// walkTar streams the entries of the tar read from r to fn, stopping at
// the end-of-archive marker.
func walkTar(ctx context.Context, r io.Reader, ref Layer, fn func(Entry, io.Reader) error) (int64, error) {
	cr := &countingReader{r: r}
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
