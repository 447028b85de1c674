package imagefs

import (
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// hashingReader counts what is read through it and, unless it only counts,
// hashes it: in the reading goroutine, or in one of its own (fed copies)
// so that hashing overlaps the reader's work on another core. Its state
// may be asked from another goroutine.
type hashingReader struct {
	mu  sync.Mutex
	r   io.Reader
	h   hash.Hash  // nil when only counting or hashing in a goroutine
	a   *asyncHash // nil unless hashing in a goroutine
	n   int64
	err error // the first error other than io.EOF
	eof bool
}

// newHashingReader hashes r with algorithm as it is read.
func newHashingReader(r io.Reader, algorithm string) (*hashingReader, error) {
	h, err := v1.Hasher(algorithm)
	if err != nil {
		return nil, err
	}
	return &hashingReader{r: r, h: h}, nil
}

// newAsyncHashingReader hashes r with algorithm in a goroutine of its own
// as it is read; stop or sum ends the goroutine.
func newAsyncHashingReader(r io.Reader, algorithm string) (*hashingReader, error) {
	h, err := v1.Hasher(algorithm)
	if err != nil {
		return nil, err
	}
	return &hashingReader{r: r, a: newAsyncHash(h)}, nil
}

// newCountingReader counts what is read from r without hashing it.
func newCountingReader(r io.Reader) *hashingReader { return &hashingReader{r: r} }

// Read implements io.Reader.
func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.mu.Lock()
	defer hr.mu.Unlock()
	switch {
	case hr.a != nil:
		hr.a.write(p[:n])
	case hr.h != nil:
		hr.h.Write(p[:n])
	}
	hr.n += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		hr.eof = true
	case err != nil && hr.err == nil:
		hr.err = err
	}
	return n, err
}

// state returns how many bytes were read, the first error other than
// io.EOF, and whether the end was reached.
func (hr *hashingReader) state() (n int64, err error, eof bool) {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	return hr.n, hr.err, hr.eof
}

// sum returns the digest of what was read (zero when only counting).
func (hr *hashingReader) sum(algorithm string) v1.Hash {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	switch {
	case hr.a != nil:
		return v1.Hash{Algorithm: algorithm, Hex: hex.EncodeToString(hr.a.sum())}
	case hr.h != nil:
		return v1.Hash{Algorithm: algorithm, Hex: hex.EncodeToString(hr.h.Sum(nil))}
	}
	return v1.Hash{}
}

// stop ends the hashing goroutine of a reader whose sum is not wanted.
func (hr *hashingReader) stop() {
	if hr == nil || hr.a == nil {
		return
	}
	hr.mu.Lock()
	defer hr.mu.Unlock()
	hr.a.sum()
}

// asyncHash feeds a hash.Hash from a goroutine. write copies its input
// into pooled chunks, handing each to the goroutine once full; sum hands
// over the last one and waits for the goroutine.
type asyncHash struct {
	ch     chan *[]byte
	done   chan struct{}
	h      hash.Hash
	cur    *[]byte // being filled; nil when none
	result []byte
	closed bool
}

// hashChunk is the size of the pooled copies handed to the goroutine:
// large enough that handing them over costs nothing next to hashing them.
const hashChunk = 256 << 10

var hashChunks = sync.Pool{New: func() any { b := make([]byte, 0, hashChunk); return &b }}

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{ch: make(chan *[]byte, 8), done: make(chan struct{}), h: h}
	go func() {
		defer close(a.done)
		for bp := range a.ch {
			a.h.Write(*bp)
			*bp = (*bp)[:0]
			hashChunks.Put(bp)
		}
	}()
	return a
}

// write hands a copy of p to the goroutine; after sum it does nothing.
func (a *asyncHash) write(p []byte) {
	for len(p) > 0 && !a.closed {
		if a.cur == nil {
			a.cur = hashChunks.Get().(*[]byte)
		}
		b := *a.cur
		n := copy(b[len(b):cap(b)], p)
		*a.cur = b[:len(b)+n]
		p = p[n:]
		if len(*a.cur) == cap(*a.cur) {
			a.ch <- a.cur
			a.cur = nil
		}
	}
}

// sum waits for the goroutine and returns the digest; later calls return
// the same.
func (a *asyncHash) sum() []byte {
	if !a.closed {
		a.closed = true
		if a.cur != nil {
			a.ch <- a.cur
			a.cur = nil
		}
		close(a.ch)
		<-a.done
		a.result = a.h.Sum(nil)
	}
	return a.result
}
