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
// hashes it as it is read, in the reading goroutine: no copy, no hand-over.
// Its state may be asked from another goroutine.
type hashingReader struct {
	mu  sync.Mutex
	r   io.Reader
	h   hash.Hash // nil when only counting
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

// newCountingReader counts what is read from r without hashing it.
func newCountingReader(r io.Reader) *hashingReader { return &hashingReader{r: r} }

// Read implements io.Reader.
func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.mu.Lock()
	defer hr.mu.Unlock()
	if hr.h != nil {
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
	if hr.h == nil {
		return v1.Hash{}
	}
	return v1.Hash{Algorithm: algorithm, Hex: hex.EncodeToString(hr.h.Sum(nil))}
}
