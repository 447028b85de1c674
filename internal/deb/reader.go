package deb

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/patchloop/patchloop/internal/deb/compression"
)

// Reader streams a .deb: NewReader decodes everything up to the data
// archive, then Next and Read walk the data archive like archive/tar.
type Reader struct {
	info *Info
	data io.ReadCloser
	tr   *tar.Reader
}

// NewReader reads the debian-binary and control members of the package in
// r and positions the reader at the start of the data archive. Members
// whose names start with '_' are skipped, as dpkg does. The caller must
// Close the reader.
func NewReader(ctx context.Context, r io.Reader) (*Reader, error) {
	ar := newArReader(r)
	if err := readFormatVersion(ar); err != nil {
		return nil, err
	}
	m, err := nextMember(ctx, ar)
	if err != nil {
		return nil, fmt.Errorf("reading control member: %w", err)
	}
	info, err := readControlMember(ar, m)
	if err != nil {
		return nil, err
	}
	if m, err = nextMember(ctx, ar); err != nil {
		return nil, fmt.Errorf("reading data member: %w", err)
	}
	stem, format := compression.Split(m.Name)
	if stem != "data.tar" {
		return nil, fmt.Errorf("third member is %q, want data.tar", m.Name)
	}
	data, err := compression.NewReader(ar, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	return &Reader{info: info, data: data, tr: tar.NewReader(data)}, nil
}

// readFormatVersion checks the leading debian-binary member.
func readFormatVersion(ar *arReader) error {
	m, err := ar.Next()
	if err == io.EOF {
		return errors.New("empty ar archive")
	}
	if err != nil {
		return err
	}
	if m.Name != "debian-binary" {
		return fmt.Errorf("first member is %q, want debian-binary", m.Name)
	}
	version, err := io.ReadAll(io.LimitReader(ar, 64))
	if err != nil {
		return fmt.Errorf("debian-binary: %w", err)
	}
	if v := strings.TrimSpace(string(version)); !strings.HasPrefix(v, "2.") {
		return fmt.Errorf("unsupported package format version %q", truncate(v))
	}
	return nil
}

// nextMember returns the next member whose name does not start with '_'.
func nextMember(ctx context.Context, ar *arReader) (arMember, error) {
	for {
		if err := ctx.Err(); err != nil {
			return arMember{}, err
		}
		m, err := ar.Next()
		if err == io.EOF {
			return arMember{}, io.ErrUnexpectedEOF
		}
		if err != nil || !strings.HasPrefix(m.Name, "_") {
			return m, err
		}
	}
}

// readControlMember decompresses and decodes the control archive.
func readControlMember(ar *arReader, m arMember) (*Info, error) {
	stem, format := compression.Split(m.Name)
	if stem != "control.tar" || format == compression.Bzip2 {
		return nil, fmt.Errorf("second member is %q, want control.tar", m.Name)
	}
	zr, err := compression.NewReader(ar, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	defer zr.Close()
	info, err := readInfo(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	return info, nil
}

// Info returns the package metadata.
func (r *Reader) Info() *Info { return r.info }

// Next advances to the next entry of the data archive and returns it, or
// io.EOF at the end. Entries whose path would escape the root are an
// error.
func (r *Reader) Next(ctx context.Context) (*Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := r.tr.Next()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("data archive: %w", err)
	}
	e, err := entryFromTar(h)
	if err != nil {
		return nil, fmt.Errorf("data archive: %w", err)
	}
	return e, nil
}

// Read reads the content of the current entry.
func (r *Reader) Read(p []byte) (int, error) { return r.tr.Read(p) }

// Close releases the decompressor. It does not close the underlying reader.
func (r *Reader) Close() error { return r.data.Close() }

// ReadInfo reads only the metadata of the package in r.
func ReadInfo(ctx context.Context, r io.Reader) (*Info, error) {
	dr, err := NewReader(ctx, r)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	return dr.Info(), nil
}
