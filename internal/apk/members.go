package apk

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"hash"
	"io"
)

// member is one gzip member of an APKINDEX.tar.gz or .apk file: where it
// is and the digests of its compressed bytes.
type member struct {
	off, len     int64
	sha1, sha256 []byte
	uncompressed int64
}

// memberReader feeds gzip one byte source while counting and hashing what
// gzip consumes, so that member boundaries and digests are exact.
type memberReader struct {
	br     *bufio.Reader
	n      int64
	hashes []hash.Hash
}

// Read reads from the source, counting and hashing.
func (m *memberReader) Read(p []byte) (int, error) {
	n, err := m.br.Read(p)
	m.n += int64(n)
	for _, h := range m.hashes {
		h.Write(p[:n])
	}
	return n, err
}

// ReadByte reads one byte, counting and hashing it.
func (m *memberReader) ReadByte() (byte, error) {
	b, err := m.br.ReadByte()
	if err == nil {
		m.n++
		for _, h := range m.hashes {
			h.Write([]byte{b})
		}
	}
	return b, err
}

// maxMembers bounds the gzip members of a file apk reads.
const maxMembers = 3

// scanMembers reads r to its end as a sequence of gzip members and returns
// each member's place and digests; each member's uncompressed content is
// passed to fn (with its index) unless fn is nil, and must be read by it
// or is drained. Anything after the last member, or more than max
// members, is an error.
func scanMembers(r io.Reader, max int, fn func(i int, content io.Reader) error) ([]member, error) {
	mr := &memberReader{br: bufio.NewReaderSize(r, 64<<10)}
	var out []member
	var zr *gzip.Reader
	for i := 0; ; i++ {
		if _, err := mr.br.Peek(1); errors.Is(err, io.EOF) {
			if i == 0 {
				return nil, errors.New("empty file")
			}
			return out, nil
		}
		if i == max {
			return nil, fmt.Errorf("more than %d gzip streams", max)
		}
		h1, h256 := newSHA1(), newSHA256()
		mr.hashes = []hash.Hash{h1, h256}
		start := mr.n
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(mr)
		} else {
			err = zr.Reset(mr)
		}
		if err != nil {
			return nil, fmt.Errorf("gzip stream %d: %w", i+1, err)
		}
		zr.Multistream(false)
		cr := &countReader{r: zr}
		if fn != nil {
			if err := fn(i, cr); err != nil {
				return nil, err
			}
		}
		if _, err := io.Copy(io.Discard, cr); err != nil {
			return nil, fmt.Errorf("gzip stream %d: %w", i+1, err)
		}
		out = append(out, member{off: start, len: mr.n - start, sha1: h1.Sum(nil), sha256: h256.Sum(nil), uncompressed: cr.n})
	}
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

// Read reads, counting.
func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
