package deb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The common ar format used by .deb files (man deb, man ar): a global
// magic line, then members each with a 60-byte text header followed by the
// content padded to an even length with '\n'.
const (
	arMagic      = "!<arch>\n"
	arHeaderSize = 60
	arFileMagic  = "`\n"
)

// arMember describes one member of an ar archive.
type arMember struct {
	Name string
	Size int64
}

// arReader reads the members of an ar archive sequentially.
type arReader struct {
	r       io.Reader
	cur     io.Reader // remaining content of the current member
	pad     bool      // current member has an odd size and is followed by a pad byte
	started bool
}

func newArReader(r io.Reader) *arReader { return &arReader{r: r} }

// Next skips to the next member and returns its header, or io.EOF when the
// archive has no more members.
func (a *arReader) Next() (arMember, error) {
	if !a.started {
		var magic [len(arMagic)]byte
		if _, err := io.ReadFull(a.r, magic[:]); err != nil {
			return arMember{}, fmt.Errorf("reading ar magic: %w", noEOF(err))
		}
		if string(magic[:]) != arMagic {
			return arMember{}, errors.New("not an ar archive")
		}
		a.started = true
	}
	if a.cur != nil {
		if _, err := io.Copy(io.Discard, a.cur); err != nil {
			return arMember{}, err
		}
		if a.pad {
			if _, err := io.ReadFull(a.r, make([]byte, 1)); err != nil {
				return arMember{}, fmt.Errorf("reading ar padding: %w", noEOF(err))
			}
		}
	}
	var h [arHeaderSize]byte
	n, err := io.ReadFull(a.r, h[:])
	if err == io.EOF && n == 0 {
		return arMember{}, io.EOF
	}
	if err != nil {
		return arMember{}, fmt.Errorf("reading ar header: %w", noEOF(err))
	}
	if string(h[58:60]) != arFileMagic {
		return arMember{}, errors.New("corrupt ar member header")
	}
	name := strings.TrimRight(string(h[0:16]), " ")
	// GNU ar terminates names with '/'; dpkg accepts both forms.
	name = strings.TrimSuffix(name, "/")
	sizeText := strings.TrimRight(string(h[48:58]), " ")
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 {
		return arMember{}, fmt.Errorf("ar member %q: invalid size %q", name, sizeText)
	}
	a.cur = &exactReader{r: io.LimitReader(a.r, size), left: size}
	a.pad = size%2 == 1
	return arMember{Name: name, Size: size}, nil
}

// Read reads from the current member.
func (a *arReader) Read(p []byte) (int, error) {
	if a.cur == nil {
		return 0, io.EOF
	}
	return a.cur.Read(p)
}

// exactReader reports io.ErrUnexpectedEOF when the underlying stream ends
// before the declared member size.
type exactReader struct {
	r    io.Reader
	left int64
}

// Read reads from the member, failing on a premature end.
func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		return 0, io.EOF
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// noEOF turns a bare io.EOF into io.ErrUnexpectedEOF for truncated input.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// arWriter writes an ar archive with fixed owner, mode and time fields so
// that output is deterministic.
type arWriter struct {
	w       io.Writer
	mtime   time.Time
	started bool
}

func newArWriter(w io.Writer, mtime time.Time) *arWriter { return &arWriter{w: w, mtime: mtime} }

// WriteMember writes one complete member.
func (a *arWriter) WriteMember(name string, data []byte) error {
	if !a.started {
		if _, err := io.WriteString(a.w, arMagic); err != nil {
			return err
		}
		a.started = true
	}
	if len(name) > 16 {
		return fmt.Errorf("ar member name %q longer than 16 bytes", name)
	}
	var h bytes.Buffer
	fmt.Fprintf(&h, "%-16s%-12d%-6d%-6d%-8o%-10d%s", name, a.mtime.Unix(), 0, 0, 0o100644, len(data), arFileMagic)
	if h.Len() != arHeaderSize {
		return fmt.Errorf("ar member %q: header does not fit", name)
	}
	if _, err := a.w.Write(h.Bytes()); err != nil {
		return err
	}
	if _, err := a.w.Write(data); err != nil {
		return err
	}
	if len(data)%2 == 1 {
		_, err := a.w.Write([]byte{'\n'})
		return err
	}
	return nil
}
