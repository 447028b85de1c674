package imagetest

import (
	"archive/tar"
	"path"
)

// Entry is one tar entry of a test layer.
type Entry struct {
	// Name is the tar entry name, used as is (it may be malicious).
	Name string
	// Type is the tar type flag; zero means a regular file.
	Type byte
	// Mode is the permission bits; zero means 0644 (0755 for directories).
	Mode int64
	// Body is the content of a regular file.
	Body string
	// Linkname is the target of a symlink or hard link.
	Linkname string
	// Size, when non-zero, is written as the header size instead of
	// len(Body), to build archives that lie about their sizes.
	Size int64
}

// File returns a regular file entry.
func File(name, body string) Entry { return Entry{Name: name, Type: tar.TypeReg, Body: body} }

// Dir returns a directory entry.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir} }

// Symlink returns a symbolic link entry pointing at target.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Linkname: target}
}

// Hardlink returns a hard link entry to an earlier entry of the same layer.
func Hardlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeLink, Linkname: target}
}

// Whiteout returns the entry that deletes name from the layers below.
func Whiteout(name string) Entry {
	dir, base := path.Split(name)
	return File(dir+".wh."+base, "")
}

// Opaque returns the entry that hides everything below dir in lower layers.
func Opaque(dir string) Entry { return File(path.Join(dir, ".wh..wh..opq"), "") }
