package imagefs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// spool keeps verified uncompressed layers of one View on disk. A nil
// *spool keeps nothing.
type spool struct {
	dir    string
	mu     sync.Mutex
	files  map[int]string // by layer position
	closed bool
}

// open returns the kept tar of the layer at pos, or nil.
func (sp *spool) open(pos int) (*os.File, error) {
	if sp == nil {
		return nil, nil
	}
	sp.mu.Lock()
	p := sp.files[pos]
	sp.mu.Unlock()
	if p == "" {
		return nil, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("layer spool: %w", err)
	}
	return f, nil
}

// spoolFile is a layer being written to the spool; nil when not keeping.
type spoolFile struct {
	f *os.File
	w *bufio.Writer
}

// create starts keeping a layer. When no file can be created the layer is
// read without keeping a copy (nil).
func (sp *spool) create() *spoolFile {
	if sp == nil {
		return nil
	}
	f, err := os.CreateTemp(sp.dir, "patchloop-spool-*.tar")
	if err != nil {
		return nil
	}
	return &spoolFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}
}

// writer returns where the layer's tar is copied, or nil.
func (k *spoolFile) writer() io.Writer {
	if k == nil {
		return nil
	}
	return k.w
}

// discard drops a layer that was not read to the end or did not verify.
func (k *spoolFile) discard() {
	if k == nil {
		return
	}
	_ = k.f.Close()
	_ = os.Remove(k.f.Name())
}

// commit keeps a layer that was read to the end and verified. A failure to
// write it only means the layer will be read from the image again.
func (sp *spool) commit(pos int, k *spoolFile) {
	if sp == nil || k == nil {
		return
	}
	if err := errors.Join(k.w.Flush(), k.f.Close()); err != nil {
		_ = os.Remove(k.f.Name())
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed || sp.files[pos] != "" {
		_ = os.Remove(k.f.Name())
		return
	}
	sp.files[pos] = k.f.Name()
}

// close removes every kept layer.
func (sp *spool) close() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.closed = true
	var errs []error
	for pos, p := range sp.files {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("layer spool: %w", err))
		}
		delete(sp.files, pos)
	}
	return errors.Join(errs...)
}
