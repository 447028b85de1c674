package layer

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// Spool keeps the contents of the new packages' files in one temporary
// file, so that the layer can be written in sorted order without holding
// the packages in memory. It is not safe for concurrent use.
type Spool struct {
	f   *os.File
	end int64
}

// NewSpool creates the spool file in dir; Close removes it.
func NewSpool(dir string) (*Spool, error) {
	f, err := os.CreateTemp(dir, "patchloop-spool-*")
	if err != nil {
		return nil, fmt.Errorf("creating spool file: %w", err)
	}
	return &Spool{f: f}, nil
}

// Add appends r to the spool and returns where it is (for Entry.Off and
// Entry.Len) and its md5, hex-encoded.
func (s *Spool) Add(r io.Reader) (off, n int64, sum string, err error) {
	h := md5.New()
	n, err = io.Copy(io.MultiWriter(s.f, h), r)
	if err != nil {
		return 0, 0, "", err
	}
	off = s.end
	s.end += n
	return off, n, hex.EncodeToString(h.Sum(nil)), nil
}

// Section returns a reader of a stored content.
func (s *Spool) Section(off, n int64) io.Reader { return io.NewSectionReader(s.f, off, n) }

// Close removes the spool file.
func (s *Spool) Close() {
	name := s.f.Name()
	_ = s.f.Close()
	_ = os.Remove(name)
}
