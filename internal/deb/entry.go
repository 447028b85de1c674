package deb

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// EntryType is the kind of a filesystem object in a package.
type EntryType int

// The kinds of entry a data archive can hold.
const (
	TypeRegular EntryType = iota
	TypeDir
	TypeSymlink
	TypeHardlink
	TypeCharDevice
	TypeBlockDevice
	TypeFIFO
)

// String names the type.
func (t EntryType) String() string {
	switch t {
	case TypeRegular:
		return "regular"
	case TypeDir:
		return "directory"
	case TypeSymlink:
		return "symlink"
	case TypeHardlink:
		return "hardlink"
	case TypeCharDevice:
		return "char device"
	case TypeBlockDevice:
		return "block device"
	case TypeFIFO:
		return "fifo"
	}
	return fmt.Sprintf("EntryType(%d)", int(t))
}

// Entry is one object of a package's data archive.
type Entry struct {
	// Path is relative to the filesystem root, slash-separated and clean,
	// without a leading "./" or "/": "usr/bin/env". The root directory
	// itself is ".".
	Path string
	Type EntryType
	// Mode holds the permission bits plus fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky; the type is in Type.
	Mode         fs.FileMode
	UID, GID     int
	Uname, Gname string
	// Linkname is the target of a symlink, verbatim, or of a hard link,
	// normalized like Path.
	Linkname         string
	Size             int64
	ModTime          time.Time
	DevMajor, DevMin int64
}

// CleanPath normalizes an archive member name to the form of Entry.Path.
// It rejects empty names, NUL bytes and any ".." component, so that no
// entry can name a location outside the root it is extracted to.
func CleanPath(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty path")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("path %q contains NUL", name)
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q escapes the root", name)
		}
	}
	p := strings.TrimPrefix(path.Clean("/"+name), "/")
	if p == "" {
		p = "."
	}
	return p, nil
}

// entryFromTar converts and validates a data archive header.
func entryFromTar(h *tar.Header) (*Entry, error) {
	p, err := CleanPath(h.Name)
	if err != nil {
		return nil, err
	}
	e := &Entry{
		Path:     p,
		Mode:     modeFromTar(h.Mode),
		UID:      h.Uid,
		GID:      h.Gid,
		Uname:    h.Uname,
		Gname:    h.Gname,
		ModTime:  h.ModTime,
		DevMajor: h.Devmajor,
		DevMin:   h.Devminor,
	}
	switch h.Typeflag {
	case tar.TypeReg:
		e.Type, e.Size = TypeRegular, h.Size
	case tar.TypeDir:
		e.Type = TypeDir
	case tar.TypeSymlink:
		if h.Linkname == "" || strings.IndexByte(h.Linkname, 0) >= 0 {
			return nil, fmt.Errorf("symlink %q: invalid target %q", p, h.Linkname)
		}
		e.Type, e.Linkname = TypeSymlink, h.Linkname
	case tar.TypeLink:
		target, err := CleanPath(h.Linkname)
		if err != nil {
			return nil, fmt.Errorf("hard link %q: %w", p, err)
		}
		e.Type, e.Linkname = TypeHardlink, target
	case tar.TypeChar:
		e.Type = TypeCharDevice
	case tar.TypeBlock:
		e.Type = TypeBlockDevice
	case tar.TypeFifo:
		e.Type = TypeFIFO
	default:
		return nil, fmt.Errorf("%q: unsupported tar entry type %q", p, h.Typeflag)
	}
	return e, nil
}

// modeFromTar keeps the permission and special bits of a tar mode.
func modeFromTar(m int64) fs.FileMode {
	mode := fs.FileMode(m) & fs.ModePerm
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// TarMode is the inverse of modeFromTar: the permission, setuid, setgid
// and sticky bits of mode as a tar header's Mode.
func TarMode(mode fs.FileMode) int64 {
	m := int64(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}
