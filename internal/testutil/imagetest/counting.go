package imagetest

import (
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Counter records how often each layer of a wrapped image was opened, and
// how many bytes were read from the layers. It also counts the reads of the
// image's manifest and config and the lookups of a layer's identity
// (Digest, DiffID, Size, MediaType): go-containerregistry's remote layers
// answer each such lookup by parsing the manifest and config again, so a
// reader that looks every layer up on its own does work quadratic in the
// number of layers.
type Counter struct {
	mu       sync.Mutex
	opened   map[int]int // by layer index, 0 = bottom
	bytes    int64
	metadata int
	lookups  int
}

// MetadataReads returns how many times the image's manifest or config was
// read (Manifest, RawManifest, ConfigFile, RawConfigFile).
func (c *Counter) MetadataReads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metadata
}

// LayerLookups returns how many times a layer's Digest, DiffID, Size or
// MediaType was asked for.
func (c *Counter) LayerLookups() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups
}

func (c *Counter) addMetadata() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.metadata++
}

func (c *Counter) addLookup() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
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
// not), every read of its manifest or config and every lookup of a layer's
// identity is counted.
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

// Manifest counts and returns the manifest.
func (ci *countingImage) Manifest() (*v1.Manifest, error) {
	ci.c.addMetadata()
	return ci.Image.Manifest()
}

// RawManifest counts and returns the manifest's bytes.
func (ci *countingImage) RawManifest() ([]byte, error) {
	ci.c.addMetadata()
	return ci.Image.RawManifest()
}

// ConfigFile counts and returns the config.
func (ci *countingImage) ConfigFile() (*v1.ConfigFile, error) {
	ci.c.addMetadata()
	return ci.Image.ConfigFile()
}

// RawConfigFile counts and returns the config's bytes.
func (ci *countingImage) RawConfigFile() ([]byte, error) {
	ci.c.addMetadata()
	return ci.Image.RawConfigFile()
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
		if got, err := id(l.(*countingLayer).Layer); err == nil && got == h {
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

// Digest counts the lookup and returns the blob's digest.
func (l *countingLayer) Digest() (v1.Hash, error) {
	l.c.addLookup()
	return l.Layer.Digest()
}

// DiffID counts the lookup and returns the tar's digest.
func (l *countingLayer) DiffID() (v1.Hash, error) {
	l.c.addLookup()
	return l.Layer.DiffID()
}

// Size counts the lookup and returns the blob's size.
func (l *countingLayer) Size() (int64, error) {
	l.c.addLookup()
	return l.Layer.Size()
}

// MediaType counts the lookup and returns the blob's media type.
func (l *countingLayer) MediaType() (types.MediaType, error) {
	l.c.addLookup()
	return l.Layer.MediaType()
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
