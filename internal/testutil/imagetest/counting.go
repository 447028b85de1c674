package imagetest

import (
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Counter records how often each layer of a wrapped image was opened, and
// how many bytes were read from the layers.
type Counter struct {
	mu     sync.Mutex
	opened map[int]int // by layer index, 0 = bottom
	bytes  int64
}

// BytesRead returns how many bytes were read from the opened layers.
func (c *Counter) BytesRead() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *Counter) addBytes(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytes += int64(n)
}

// Opened returns how many times the layer at index (0 = bottom) was opened.
func (c *Counter) Opened(index int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened[index]
}

// Total returns how many layer opens happened in all.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.opened {
		n += v
	}
	return n
}

func (c *Counter) add(index int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened[index]++
}

// Count wraps img so that every opening of a layer's content (compressed or
// not) is counted.
func Count(img v1.Image) (v1.Image, *Counter) {
	c := &Counter{opened: map[int]int{}}
	return &countingImage{Image: img, c: c}, c
}

// countingImage is an image whose layers count their openings.
type countingImage struct {
	v1.Image
	c *Counter
}

// Layers returns the wrapped layers.
func (ci *countingImage) Layers() ([]v1.Layer, error) {
	ls, err := ci.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = &countingLayer{Layer: l, index: i, c: ci.c}
	}
	return out, nil
}

// LayerByDigest returns the wrapped layer with that digest.
func (ci *countingImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	return ci.find(func(l v1.Layer) (v1.Hash, error) { return l.Digest() }, h)
}

// LayerByDiffID returns the wrapped layer with that diffID.
func (ci *countingImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	return ci.find(func(l v1.Layer) (v1.Hash, error) { return l.DiffID() }, h)
}

func (ci *countingImage) find(id func(v1.Layer) (v1.Hash, error), h v1.Hash) (v1.Layer, error) {
	ls, err := ci.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if got, err := id(l); err == nil && got == h {
			return l, nil
		}
	}
	return ci.Image.LayerByDigest(h) // reports the not-found error
}

// countingLayer counts the openings of one layer.
type countingLayer struct {
	v1.Layer
	index int
	c     *Counter
}

// Compressed counts and opens the stored blob.
func (l *countingLayer) Compressed() (io.ReadCloser, error) {
	l.c.add(l.index)
	return l.count(l.Layer.Compressed())
}

// Uncompressed counts and opens the tar stream.
func (l *countingLayer) Uncompressed() (io.ReadCloser, error) {
	l.c.add(l.index)
	return l.count(l.Layer.Uncompressed())
}

func (l *countingLayer) count(rc io.ReadCloser, err error) (io.ReadCloser, error) {
	if err != nil {
		return nil, err
	}
	return &countingReadCloser{ReadCloser: rc, c: l.c}, nil
}

// countingReadCloser adds the bytes read through it to a Counter.
type countingReadCloser struct {
	io.ReadCloser
	c *Counter
}

// Read implements io.Reader.
func (r *countingReadCloser) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.c.addBytes(n)
	return n, err
}
