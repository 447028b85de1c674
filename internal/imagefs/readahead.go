package imagefs

import (
	"io"
	"sync"
)

// readahead reads a layer's blob in a goroutine of its own, a few chunks
// ahead of the decompressor, so that receiving the blob (and the registry
// client's hashing of it) overlaps decompression on another core.
type readahead struct {
	ch   chan aheadChunk
	stop chan struct{}
	done chan struct{}
	once sync.Once
	cur  aheadChunk
	off  int
	err  error // sticky, once the last chunk is consumed
}

// aheadChunk is one read of the blob: data, then the error that ended the
// reading, if any.
type aheadChunk struct {
	b   *[]byte
	err error
}

// aheadChunkSize is the size of each chunk read ahead; aheadChunks how
// many may wait for the decompressor.
const (
	aheadChunkSize = 512 << 10
	aheadChunks    = 8
)

var aheadBufs = sync.Pool{New: func() any { b := make([]byte, aheadChunkSize); return &b }}

// newReadahead starts reading r. Close stops it; r must be closed first
// when a read of it may block.
func newReadahead(r io.Reader) *readahead {
	ra := &readahead{ch: make(chan aheadChunk, aheadChunks), stop: make(chan struct{}), done: make(chan struct{})}
	go ra.run(r)
	return ra
}

func (ra *readahead) run(r io.Reader) {
	defer close(ra.done)
	defer close(ra.ch)
	for {
		bp := aheadBufs.Get().(*[]byte)
		b := (*bp)[:cap(*bp)]
		n := 0
		var err error
		for n < len(b) && err == nil {
			var m int
			m, err = r.Read(b[n:])
			n += m
		}
		*bp = b[:n]
		select {
		case ra.ch <- aheadChunk{b: bp, err: err}:
		case <-ra.stop:
			aheadBufs.Put(bp)
			return
		}
		if err != nil {
			return
		}
	}
}

// next makes the current chunk one with unread bytes, or returns the
// error that ended the blob.
func (ra *readahead) next() error {
	for ra.cur.b == nil || ra.off == len(*ra.cur.b) {
		if ra.cur.b != nil {
			ra.err = ra.cur.err
			aheadBufs.Put(ra.cur.b)
			ra.cur = aheadChunk{}
		}
		if ra.err != nil {
			return ra.err
		}
		c, ok := <-ra.ch
		if !ok {
			// Only after Close: run always ends with an error.
			ra.err = io.ErrClosedPipe
			continue
		}
		ra.cur, ra.off = c, 0
	}
	return nil
}

// Read implements io.Reader.
func (ra *readahead) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := ra.next(); err != nil {
		return 0, err
	}
	n := copy(p, (*ra.cur.b)[ra.off:])
	ra.off += n
	return n, nil
}

// Peek returns up to n next bytes without consuming them: fewer only when
// the blob is shorter (every chunk but the last is full).
func (ra *readahead) Peek(n int) ([]byte, error) {
	if err := ra.next(); err != nil {
		return nil, err
	}
	b := (*ra.cur.b)[ra.off:]
	return b[:min(n, len(b))], nil
}

// Close stops the goroutine and waits for it to end.
func (ra *readahead) Close() {
	ra.once.Do(func() { close(ra.stop) })
	for c := range ra.ch {
		aheadBufs.Put(c.b)
	}
	<-ra.done
}
