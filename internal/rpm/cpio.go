package rpm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Archive reads a package's cpio payload entry by entry, mapping each
// to the file of the main header it stores. Its Next returns io.EOF only
// after the trailer and once every payload digest checked out.
type Archive struct {
	name   string
	zr     io.ReadCloser
	r      *bufio.Reader
	verify *verifier
	files  []FileInfo
	byPath map[string]int
	seen   []bool
	off    int64 // bytes consumed from the decompressed stream
	left   int64 // bytes of the current entry's data not yet read
	done   bool
}

// ArchiveEntry is one entry of the payload.
type ArchiveEntry struct {
	// Index is the file's index in the main header's file arrays.
	Index int
	// File is the main header's description of the file.
	File *FileInfo
	// Path is the file's path relative to the root, clean ("usr/bin/foo").
	Path string
	// Size is the number of content bytes the archive holds for it: the
	// file size for a regular file, the target for a symlink in newc
	// archives, 0 for every hard link of a set but the last.
	Size int64
	// Mode, UID, GID, MTime and NLink are the cpio header's (newc only;
	// in rpm's stripped format they come from File).
	Mode, UID, GID, MTime, NLink uint32
}

// maxCpioName bounds a cpio entry's name. The entries are bounded by
// the header's files: each may be stored once.
const maxCpioName = 4096

// maxAfterTrailer bounds the decompressed bytes after the cpio trailer
// (rpm writes at most a few bytes of padding; GNU cpio pads to 512): a
// tiny compressed payload must not make Patchloop inflate gigabytes of
// data that no entry holds.
const maxAfterTrailer = 64 << 10

// MaxPayloadContent bounds the content bytes one package's payload may
// hold, summed over its regular files as the header declares them: what
// a patch spools to disk is bounded by it, whatever the header claims.
const MaxPayloadContent = 16 << 30

// newArchive wraps a decompressed payload.
func newArchive(name string, zr io.ReadCloser, v *verifier, files []FileInfo) *Archive {
	a := &Archive{name: name, zr: zr, r: bufio.NewReaderSize(zr, 64<<10), verify: v, files: files, byPath: make(map[string]int, len(files)), seen: make([]bool, len(files))}
	for i, f := range files {
		a.byPath[strings.TrimPrefix(f.Path, "/")] = i
	}
	return a
}

// Files returns the main header's files.
func (a *Archive) Files() []FileInfo { return a.files }

// Close releases the decompressor.
func (a *Archive) Close() error { return a.zr.Close() }

// skip discards n bytes.
func (a *Archive) skip(n int64) error {
	m, err := io.CopyN(io.Discard, a.r, n)
	a.off += m
	if err != nil {
		return a.wrap(fmt.Errorf("truncated payload: %w", unexpected(err)))
	}
	return nil
}

// wrap names the package in an error, unless it is a verification
// error, which already does.
func (a *Archive) wrap(err error) error {
	if a.verify.err != nil {
		return a.verify.err
	}
	return fmt.Errorf("%s: payload: %w", a.name, err)
}

// Next advances to the next entry, skipping what is left of the current
// one. At the end of the archive it reads the rest of the payload, so
// that the digests are checked, and returns io.EOF.
func (a *Archive) Next() (*ArchiveEntry, error) {
	if a.done {
		return nil, io.EOF
	}
	if err := a.skip(a.left); err != nil {
		return nil, err
	}
	a.left = 0
	if pad := (4 - a.off%4) % 4; pad > 0 {
		if err := a.skip(pad); err != nil {
			return nil, err
		}
	}
	magic := make([]byte, 6)
	if _, err := io.ReadFull(a.r, magic); err != nil {
		return nil, a.wrap(fmt.Errorf("truncated payload: %w", unexpected(err)))
	}
	a.off += 6
	switch string(magic) {
	case "070701", "070702":
		return a.nextNewc()
	case "07070X":
		return a.nextStripped()
	}
	return nil, a.wrap(fmt.Errorf("cpio magic %q at offset %d (want 070701 or 07070X)", magic, a.off-6))
}

// hexField reads n hex digits.
func (a *Archive) hexFields(n int) ([]uint32, error) {
	buf := make([]byte, 8*n)
	if _, err := io.ReadFull(a.r, buf); err != nil {
		return nil, a.wrap(fmt.Errorf("truncated cpio header: %w", unexpected(err)))
	}
	a.off += int64(len(buf))
	out := make([]uint32, n)
	for i := range out {
		v, err := strconv.ParseUint(string(buf[8*i:8*i+8]), 16, 32)
		if err != nil {
			return nil, a.wrap(fmt.Errorf("cpio header field %q: not hex", buf[8*i:8*i+8]))
		}
		out[i] = uint32(v)
	}
	return out, nil
}

// nextNewc reads a newc header after its magic.
func (a *Archive) nextNewc() (*ArchiveEntry, error) {
	f, err := a.hexFields(13)
	if err != nil {
		return nil, err
	}
	mode, uid, gid, nlink, mtime, size, namesize := f[1], f[2], f[3], f[4], f[5], int64(f[6]), f[11]
	if namesize == 0 || namesize > maxCpioName {
		return nil, a.wrap(fmt.Errorf("cpio name of %d bytes", namesize))
	}
	name := make([]byte, namesize)
	if _, err := io.ReadFull(a.r, name); err != nil {
		return nil, a.wrap(fmt.Errorf("truncated cpio name: %w", unexpected(err)))
	}
	a.off += int64(namesize)
	if name[len(name)-1] != 0 {
		return nil, a.wrap(errors.New("cpio name not NUL-terminated"))
	}
	n := string(name[:len(name)-1])
	if pad := (4 - a.off%4) % 4; pad > 0 {
		if err := a.skip(pad); err != nil {
			return nil, err
		}
	}
	if n == "TRAILER!!!" {
		return nil, a.finish()
	}
	rel, err := cleanArchivePath(n)
	if err != nil {
		return nil, a.wrap(err)
	}
	i, ok := a.byPath[rel]
	if !ok {
		return nil, a.wrap(fmt.Errorf("cpio entry %q is not a file of the header", n))
	}
	if err := a.claim(i, size); err != nil {
		return nil, err
	}
	a.left = size
	return &ArchiveEntry{Index: i, File: &a.files[i], Path: rel, Size: size, Mode: mode, UID: uid, GID: gid, MTime: mtime, NLink: nlink}, nil
}

// nextStripped reads rpm's stripped header ("07070X" and the file index
// in 8 hex digits): everything else comes from the main header.
func (a *Archive) nextStripped() (*ArchiveEntry, error) {
	f, err := a.hexFields(1)
	if err != nil {
		return nil, err
	}
	i := int(f[0])
	if i >= len(a.files) {
		return nil, a.wrap(fmt.Errorf("stripped cpio entry for file %d of %d", i, len(a.files)))
	}
	fi := &a.files[i]
	var size int64
	switch fi.Mode & ModeType {
	case ModeRegular:
		size = fi.Size
	case ModeSymlink:
		size = int64(len(fi.LinkTo))
	}
	if err := a.claim(i, size); err != nil {
		return nil, err
	}
	a.left = size
	rel := strings.TrimPrefix(fi.Path, "/")
	return &ArchiveEntry{Index: i, File: fi, Path: rel, Size: size, Mode: uint32(fi.Mode), MTime: fi.MTime}, nil
}

// claim marks file i as stored once, with a size that fits the header.
func (a *Archive) claim(i int, size int64) error {
	if a.seen[i] {
		return a.wrap(fmt.Errorf("file %s stored twice", a.files[i].Path))
	}
	a.seen[i] = true
	fi := a.files[i]
	if fi.Flags&FileGhost != 0 {
		return a.wrap(fmt.Errorf("ghost file %s is in the payload", fi.Path))
	}
	want := int64(0)
	switch fi.Mode & ModeType {
	case ModeRegular:
		want = fi.Size
	case ModeSymlink:
		want = int64(len(fi.LinkTo))
	}
	if size != want && size != 0 {
		return a.wrap(fmt.Errorf("file %s: %d bytes in the payload, the header says %d", fi.Path, size, want))
	}
	return nil
}

// finish reads the rest of the payload so that its digests are checked,
// and checks that every file but ghosts was in it.
func (a *Archive) finish() error {
	a.done = true
	n, err := io.Copy(io.Discard, io.LimitReader(a.r, maxAfterTrailer+1))
	if err != nil {
		return a.wrap(unexpected(err))
	}
	if n > maxAfterTrailer {
		return a.wrap(fmt.Errorf("%w: more than %d bytes after the cpio trailer", ErrPayloadTooLarge, maxAfterTrailer))
	}
	for i, f := range a.files {
		if !a.seen[i] && f.Flags&FileGhost == 0 {
			return a.wrap(fmt.Errorf("file %s is not in the payload", f.Path))
		}
	}
	if err := a.verify.drain(); err != nil {
		return err
	}
	if a.verify.err != nil {
		return a.verify.err
	}
	return io.EOF
}

// Read reads the current entry's content.
func (a *Archive) Read(b []byte) (int, error) {
	if a.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > a.left {
		b = b[:a.left]
	}
	n, err := a.r.Read(b)
	a.left -= int64(n)
	a.off += int64(n)
	if errors.Is(err, io.EOF) && a.left > 0 {
		return n, a.wrap(io.ErrUnexpectedEOF)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, a.wrap(unexpected(err))
	}
	return n, nil
}

// unexpected turns an end of input inside the archive into
// io.ErrUnexpectedEOF, so that no caller takes it for the archive's end.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// cleanArchivePath turns a cpio name ("./usr/bin/foo") into a clean
// relative path, refusing anything that could leave the root.
func cleanArchivePath(n string) (string, error) {
	rel := strings.TrimPrefix(strings.TrimPrefix(n, "."), "/")
	if rel == "" || strings.HasPrefix(rel, "/") || path.Clean(rel) != rel || rel == ".." || strings.HasPrefix(rel, "../") || strings.ContainsRune(rel, 0) {
		return "", fmt.Errorf("cpio entry %q: not a clean path inside the root", n)
	}
	return rel, nil
}
