package imagefs

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// errEscapes reports a path that climbs out of the image root.
var errEscapes = errors.New("path climbs out of the image root")

// cleanEntryName validates a tar entry name and returns it as a clean path
// relative to the image root ("" is the root itself). Absolute names, names
// with NUL bytes and names whose ".." elements climb above the root are
// errors: such an entry is never followed.
func cleanEntryName(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty entry name")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("entry name %q contains a NUL byte", name)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("entry name %q is absolute", name)
	}
	if climbsOut(name) {
		return "", fmt.Errorf("entry name %q: %w", name, errEscapes)
	}
	return relClean(name), nil
}

// cleanRequestPath turns a requested path ("etc/os-release" or
// "/etc/os-release") into its clean relative form.
func cleanRequestPath(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("path %q contains a NUL byte", p)
	}
	trimmed := strings.TrimLeft(p, "/")
	if climbsOut(trimmed) {
		return "", fmt.Errorf("path %q: %w", p, errEscapes)
	}
	return relClean(trimmed), nil
}

// climbsOut reports whether the ".." elements of a relative path climb above
// its starting directory.
func climbsOut(p string) bool {
	depth := 0
	for elem := range strings.SplitSeq(p, "/") {
		switch elem {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// relClean cleans a relative path that does not climb out; the root is "".
func relClean(p string) string {
	c := path.Clean("/" + p)
	return strings.TrimPrefix(c, "/")
}

// parentDir returns the directory holding p ("" for top-level names).
func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// joinPath joins a directory ("" for the root) and a name.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// splitPath splits a clean relative path into its elements.
func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
