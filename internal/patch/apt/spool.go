package apt

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// spool keeps the contents of the new packages' files in one temporary
// file, so that the layer can be written in sorted order without holding
// the packages in memory.
type spool struct {
	f   *os.File
	end int64
}

// newSpool creates the spool file in dir.
func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "patchloop-spool-*")
	if err != nil {
		return nil, fmt.Errorf("creating spool file: %w", err)
	}
	return &spool{f: f}, nil
}

// add appends r to the spool and returns where it is and its md5.
func (s *spool) add(r io.Reader) (off, n int64, sum string, err error) {
	h := md5.New()
	n, err = io.Copy(io.MultiWriter(s.f, h), r)
	if err != nil {
		return 0, 0, "", err
	}
	off = s.end
	s.end += n
	return off, n, hex.EncodeToString(h.Sum(nil)), nil
}

// section returns a reader of a stored content.
func (s *spool) section(off, n int64) io.Reader { return io.NewSectionReader(s.f, off, n) }

// close removes the spool file.
func (s *spool) close() {
	name := s.f.Name()
	_ = s.f.Close()
	_ = os.Remove(name)
}
