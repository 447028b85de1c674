package layer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// localImage is an image whose compressed layers are kept after their
// first read; see KeepLocal.
type localImage struct {
	v1.Image
	layers []v1.Layer
}

// Layers returns the wrapped layers.
func (li *localImage) Layers() ([]v1.Layer, error) { return li.layers, nil }

// KeepLocal wraps img so that each compressed layer is downloaded and
// decompressed once: the first complete read of a layer's tar stream is
// kept in a file of dir, and later reads come from that file. A patcher
// reads the image's filesystem in more than one pass (before and after
// choosing packages), and a remote layer would otherwise be fetched again
// each time. Uncompressed layers are not copied. release removes the kept
// files.
func KeepLocal(img v1.Image, dir string) (v1.Image, func(), error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("listing layers: %w", err)
	}
	li := &localImage{Image: img}
	var kept []*localLayer
	for _, l := range ls {
		mt, err := l.MediaType()
		if err == nil && (mt == types.DockerUncompressedLayer || mt == types.OCIUncompressedLayer) {
			li.layers = append(li.layers, l) // already cheap to read again
			continue
		}
		ll := &localLayer{Layer: l, dir: dir}
		kept = append(kept, ll)
		li.layers = append(li.layers, ll)
	}
	release := func() {
		for _, ll := range kept {
			ll.remove()
		}
	}
	return li, release, nil
}

// localLayer is a layer whose uncompressed stream is kept after the first
// complete read.
type localLayer struct {
	v1.Layer
	dir string

	mu   sync.Mutex
	path string // the kept tar, once complete
}

// Uncompressed returns the kept copy, or the layer's stream while keeping
// a copy.
func (l *localLayer) Uncompressed() (io.ReadCloser, error) {
	l.mu.Lock()
	p := l.path
	l.mu.Unlock()
	if p != "" {
		return os.Open(p)
	}
	rc, err := l.Layer.Uncompressed()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(l.dir, "patchloop-layer-*.tar")
	if err != nil {
		return rc, nil // reading without keeping a copy still works
	}
	return &keepingReader{rc: rc, f: f, l: l}, nil
}

// remove deletes the kept copy.
func (l *localLayer) remove() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path != "" {
		_ = os.Remove(l.path)
		l.path = ""
	}
}

// keepingReader copies what it reads into a file and hands the file to the
// layer once the stream ended.
type keepingReader struct {
	rc   io.ReadCloser
	f    *os.File
	l    *localLayer
	werr error
	done bool
}

// Read reads the stream, copying it.
func (k *keepingReader) Read(p []byte) (int, error) {
	n, err := k.rc.Read(p)
	if n > 0 && k.werr == nil {
		_, k.werr = k.f.Write(p[:n])
	}
	if errors.Is(err, io.EOF) && k.werr == nil && !k.done {
		k.done = true
		if cerr := k.f.Close(); cerr == nil {
			k.l.mu.Lock()
			if k.l.path == "" {
				k.l.path = k.f.Name()
			} else {
				_ = os.Remove(k.f.Name())
			}
			k.l.mu.Unlock()
			k.f = nil
		}
	}
	return n, err
}

// Close closes the stream and drops an incomplete copy.
func (k *keepingReader) Close() error {
	err := k.rc.Close()
	if k.f != nil {
		_ = k.f.Close()
		_ = os.Remove(k.f.Name())
		k.f = nil
	}
	return err
}
