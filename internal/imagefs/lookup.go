package imagefs

import (
	"fmt"
	"io/fs"
	"strings"
)

// maxSymlinkHops is how many symlinks one lookup may follow, as in Linux.
const maxSymlinkHops = 40

// rootObs stands for the image root, which is always a directory.
var rootObs = &obs{kind: KindDir, mode: fs.ModeDir | 0o755}

// answer is the outcome of a lookup.
type answer struct {
	v    verdict
	o    *obs
	pos  int    // layer position (from the top) holding o; -1 for the root
	path string // literal path reached
}

// lookup resolves p in the final filesystem, following symlinks in parent
// directories always and at the last element when followLast is set. Links
// are resolved inside the image root: absolute targets start from the root
// and ".." stops at the root. When content is set, the content of the
// regular file reached is wanted; a pending answer means more layers must
// be read first. limit is the content limit (0 when content is not wanted).
func (s *state) lookup(p string, followLast bool, limit int64) (answer, error) {
	rest := splitPath(p)
	cur := "" // resolved literal directory so far
	hops := 0
	for len(rest) > 0 {
		elem := rest[0]
		rest = rest[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			cur = parentDir(cur)
			continue
		}
		cand := joinPath(cur, elem)
		t, err := s.track(cand, nil)
		if err != nil {
			return answer{}, err
		}
		last := len(rest) == 0
		if last && limit > 0 {
			s.want(t, limit)
		}
		v, o, pos := t.decide()
		switch {
		case v == pending:
			// Track the rest of the path now, so that the next layers read
			// answer for all of it at once.
			return answer{v: pending}, s.trackRest(cand, rest, limit)
		case v == absent:
			return answer{v: absent, path: cand}, nil
		case o.kind == KindSymlink && (!last || followLast):
			hops++
			if hops > maxSymlinkHops {
				return answer{}, fmt.Errorf("%s: too many levels of symbolic links", p)
			}
			if o.target == "" {
				return answer{v: absent, path: cand}, nil
			}
			if strings.HasPrefix(o.target, "/") {
				cur = ""
			}
			rest = append(strings.Split(o.target, "/"), rest...)
		case last:
			if limit > 0 && o.kind == KindRegular && !o.hasContent {
				// The layer was read before this content was wanted.
				t.covered[pos] = false
				return answer{v: pending}, nil
			}
			return answer{v: found, o: o, pos: pos, path: cand}, nil
		case o.kind == KindDir:
			cur = cand
		default:
			return answer{v: absent, path: cand}, nil // not a directory
		}
	}
	// The walk ended on a directory reached through "." or "..".
	if cur == "" {
		return answer{v: found, o: rootObs, pos: -1, path: ""}, nil
	}
	v, o, pos := s.paths[cur].decide()
	return answer{v: v, o: o, pos: pos, path: cur}, nil
}

// trackRest starts tracking the lexical remainder of a lookup below dir.
func (s *state) trackRest(dir string, rest []string, limit int64) error {
	p := dir
	for _, elem := range rest {
		switch elem {
		case "", ".":
			continue
		case "..":
			p = parentDir(p)
			continue
		}
		p = joinPath(p, elem)
	}
	if p == "" {
		return nil
	}
	t, err := s.track(p, nil)
	if err != nil {
		return err
	}
	if limit > 0 {
		s.want(t, limit)
	}
	return nil
}
