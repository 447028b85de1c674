package rpm

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// FileFlags are a file's RPMFILE_* attributes (FILEFLAGS).
type FileFlags uint32

// File attributes.
const (
	FileConfig    FileFlags = 1 << 0
	FileDoc       FileFlags = 1 << 1
	FileIcon      FileFlags = 1 << 2
	FileMissingOK FileFlags = 1 << 3
	FileNoReplace FileFlags = 1 << 4
	FileGhost     FileFlags = 1 << 6
	FileLicense   FileFlags = 1 << 7
	FileReadme    FileFlags = 1 << 8
	FilePubkey    FileFlags = 1 << 11
	FileArtifact  FileFlags = 1 << 12
)

// FileInfo is one file of a package, as its main header lists it.
type FileInfo struct {
	// Path is absolute and clean ("/usr/bin/foo").
	Path   string
	Mode   uint16
	Size   int64
	MTime  uint32
	Digest string
	LinkTo string
	Flags  FileFlags
	User   string
	Group  string
	// Inode and Device identify hard links: files of the package with
	// the same pair are links of one file.
	Inode, Device uint32
	Rdev          uint16
	Lang          string
	Caps          string
	VerifyFlags   uint32
}

// Mode bits of FileInfo.Mode.
const (
	ModeType    = 0o170000
	ModeDir     = 0o040000
	ModeRegular = 0o100000
	ModeSymlink = 0o120000
)

// maxFilesPerPackage bounds the files of one package.
const maxFilesPerPackage = 1 << 20

// FileList returns the package's files from the main header's
// BASENAMES, DIRNAMES and DIRINDEXES and the per-file arrays. Every
// array must have one value a file; every path must be absolute, clean
// and unique.
func (p *Package) FileList() ([]FileInfo, error) {
	fs, err := HeaderFiles(p.Header)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Name, err)
	}
	return fs, nil
}

// HeaderFiles returns the files a main header lists (see
// Package.FileList).
func HeaderFiles(h *Header) ([]FileInfo, error) {
	base, err := h.Strings(TagBasenames)
	if errors.Is(err, ErrNoTag) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("basenames: %w", err)
	}
	n := len(base)
	if n > maxFilesPerPackage {
		return nil, fmt.Errorf("%d files: more than %d", n, maxFilesPerPackage)
	}
	dirs, err := h.Strings(TagDirnames)
	if err != nil {
		return nil, fmt.Errorf("dirnames: %w", err)
	}
	idx, err := h.Int32s(TagDirIndexes)
	if err != nil || len(idx) != n {
		return nil, fmt.Errorf("dirindexes: want %d values: %v", n, err)
	}
	out := make([]FileInfo, n)
	seen := make(map[string]bool, n)
	for i := range out {
		if idx[i] < 0 || int(idx[i]) >= len(dirs) {
			return nil, fmt.Errorf("file %d: dirindex %d out of range", i, idx[i])
		}
		d := dirs[idx[i]]
		p := d + base[i]
		if !strings.HasPrefix(d, "/") || !strings.HasSuffix(d, "/") || strings.Contains(base[i], "/") || base[i] == "" || path.Clean(p) != p {
			return nil, fmt.Errorf("file %d: %q is not a clean absolute path", i, p)
		}
		if seen[p] {
			return nil, fmt.Errorf("file %q listed twice", p)
		}
		seen[p] = true
		out[i].Path = p
	}
	ints := func(t Tag, set func(i int, v int64)) error {
		e, ok := h.Get(t)
		if !ok {
			return nil
		}
		var vals []int64
		switch e.Type {
		case TypeInt16:
			v, err := h.Int16s(t)
			if err != nil {
				return err
			}
			for _, x := range v {
				vals = append(vals, int64(uint16(x)))
			}
		case TypeInt32:
			v, err := h.Int32s(t)
			if err != nil {
				return err
			}
			for _, x := range v {
				vals = append(vals, int64(uint32(x)))
			}
		case TypeInt64:
			v, err := h.Int64s(t)
			if err != nil {
				return err
			}
			vals = v
		default:
			return fmt.Errorf("tag %d: type %v is not an integer", t, e.Type)
		}
		if len(vals) != n {
			return fmt.Errorf("tag %d: %d values for %d files", t, len(vals), n)
		}
		for i, v := range vals {
			set(i, v)
		}
		return nil
	}
	strs := func(t Tag, set func(i int, v string)) error {
		v, err := h.Strings(t)
		if errors.Is(err, ErrNoTag) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tag %d: %w", t, err)
		}
		if len(v) != n {
			return fmt.Errorf("tag %d: %d values for %d files", t, len(v), n)
		}
		for i, s := range v {
			set(i, s)
		}
		return nil
	}
	sizeTag := TagFileSizes
	if h.Has(TagLongFileSizes) {
		sizeTag = TagLongFileSizes
	}
	for _, f := range []error{
		ints(TagFileModes, func(i int, v int64) { out[i].Mode = uint16(v) }),
		ints(sizeTag, func(i int, v int64) { out[i].Size = v }),
		ints(TagFileMtimes, func(i int, v int64) { out[i].MTime = uint32(v) }),
		ints(TagFileFlags, func(i int, v int64) { out[i].Flags = FileFlags(v) }),
		ints(TagFileInodes, func(i int, v int64) { out[i].Inode = uint32(v) }),
		ints(TagFileDevices, func(i int, v int64) { out[i].Device = uint32(v) }),
		ints(TagFileRdevs, func(i int, v int64) { out[i].Rdev = uint16(v) }),
		ints(TagFileVerifyFlags, func(i int, v int64) { out[i].VerifyFlags = uint32(v) }),
		strs(TagFileDigests, func(i int, v string) { out[i].Digest = v }),
		strs(TagFileLinkTos, func(i int, v string) { out[i].LinkTo = v }),
		strs(TagFileUsername, func(i int, v string) { out[i].User = v }),
		strs(TagFileGroupname, func(i int, v string) { out[i].Group = v }),
		strs(TagFileLangs, func(i int, v string) { out[i].Lang = v }),
		strs(TagFileCaps, func(i int, v string) { out[i].Caps = v }),
	} {
		if f != nil {
			return nil, f
		}
	}
	for i := range out {
		if out[i].Size < 0 {
			return nil, fmt.Errorf("file %q: negative size", out[i].Path)
		}
	}
	return out, nil
}
