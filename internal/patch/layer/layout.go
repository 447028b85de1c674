package layer

import (
	"fmt"
	"path"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// Layout maps the paths of packages to the literal paths they take in the
// image, following the image's symlinks (inside its root) the way the
// kernel would when a package manager unpacks: on a usr-merged image
// bin/bash lands at usr/bin/bash.
type Layout struct {
	// dirs are the image's answers for directories, the last element
	// followed through symlinks.
	dirs map[string]imagefs.Node
	// stats are the image's answers for paths whose kind matters, the
	// last element not followed.
	stats map[string]imagefs.Node
	memo  map[string]string
}

// NewLayout returns the layout of the paths look answered: every
// directory a package entry sits in (Lookup's Files) and the paths whose
// own kind matters (Stats).
func NewLayout(look *Lookup) *Layout {
	return &Layout{dirs: look.Files, stats: look.Stats, memo: map[string]string{}}
}

// RealDir returns the literal path of directory d of a package: where it
// is in the image, or, when the image lacks it, where it will be created.
// It fails when d was not looked up, is a file in the image, or resolves
// through a dangling symlink.
func (l *Layout) RealDir(d string) (string, error) {
	if d == "." || d == "" {
		return "", nil
	}
	if r, ok := l.memo[d]; ok {
		return r, nil
	}
	n, ok := l.dirs[d]
	if !ok {
		return "", fmt.Errorf("%s: directory was not looked up", d)
	}
	var real string
	switch n.Kind {
	case imagefs.KindDir:
		real = n.RealPath
	case imagefs.KindAbsent:
		parent, err := l.RealDir(path.Dir(d))
		if err != nil {
			return "", err
		}
		real = Join(parent, path.Base(d))
		if pn := l.dirs[path.Dir(d)]; (path.Dir(d) == "." || pn.Kind == imagefs.KindDir) && n.RealPath != real {
			return "", fmt.Errorf("/%s: resolves through a dangling symlink to /%s", d, n.RealPath)
		}
	case imagefs.KindRegular, imagefs.KindOther:
		return "", fmt.Errorf("/%s: the package has a directory where the image has a file (/%s)", d, n.RealPath)
	default:
		return "", fmt.Errorf("/%s: cannot tell what the image holds there (%s)", d, n.Kind)
	}
	l.memo[d] = real
	return real, nil
}

// Real returns the literal path of a package's non-directory entry: its
// directory resolved, its last element kept.
func (l *Layout) Real(p string) (string, error) {
	dir, err := l.RealDir(path.Dir(p))
	if err != nil {
		return "", err
	}
	return Join(dir, path.Base(p)), nil
}

// DirExists reports whether the image has directory d (or a symlink to one).
func (l *Layout) DirExists(d string) bool { return l.dirs[d].Kind == imagefs.KindDir }

// Stat returns what the image holds at p, its last element not followed
// (KindSymlink for a symlink); p must have been looked up as a Stat path.
func (l *Layout) Stat(p string) imagefs.Node { return l.stats[p] }

// Join joins a directory ("" for the root) and a name.
func Join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// Ancestors returns the proper ancestor directories of p, nearest last,
// without the root.
func Ancestors(p string) []string {
	var out []string
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}
