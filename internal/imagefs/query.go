package imagefs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// queryKind says which part of a Request a query comes from.
type queryKind uint8

const (
	qFile queryKind = iota
	qGlob
	qStat
)

// query is one compiled request item.
type query struct {
	key   string // as given in the Request
	path  string // clean; for globs, the directory
	kind  queryKind
	limit int64 // content limit (Files and Globs)
}

// queries is a compiled Request.
type queries []query

// compile validates a Request and starts tracking its literal paths.
func compile(s *state, req Request) (queries, error) {
	var q queries
	add := func(key string, kind queryKind) error {
		p := key
		if kind == qGlob {
			dir, ok := strings.CutSuffix(key, "/*")
			if !ok {
				return fmt.Errorf("glob %q: only \"dir/*\" patterns are supported", key)
			}
			p = dir
		}
		p, err := cleanRequestPath(p)
		if err != nil {
			return err
		}
		if p == "" && kind == qGlob {
			return errors.New("a glob of the root directory is not supported")
		}
		if p == "" {
			q = append(q, query{key: key, path: p, kind: kind})
			return nil
		}
		t, err := s.track(p, nil)
		if err != nil {
			return err
		}
		limit := req.MaxFileSizes[key]
		if limit <= 0 {
			limit = s.maxSize
		}
		switch kind {
		case qFile:
			s.want(t, limit)
		case qGlob:
			t.glob, t.gLimit = true, max(t.gLimit, limit)
		}
		q = append(q, query{key: key, path: p, kind: kind, limit: limit})
		return nil
	}
	for _, f := range req.Files {
		if err := add(f, qFile); err != nil {
			return nil, err
		}
	}
	for _, g := range req.Globs {
		if err := add(g, qGlob); err != nil {
			return nil, err
		}
	}
	for _, p := range req.Stat {
		if err := add(p, qStat); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// answer evaluates every query against what the layers read so far tell,
// following symlinks (which may start tracking new paths). settled reports
// whether every answer is final.
func (q queries) answer(s *state, refs []Layer) (res *Result, settled bool, err error) {
	res = &Result{
		Files:     make(map[string]Node),
		Globs:     make(map[string][]Node),
		Stats:     make(map[string]Node),
		unsettled: make(map[string]bool),
	}
	for _, x := range q {
		var ok bool
		switch x.kind {
		case qFile, qStat:
			var limit int64
			if x.kind == qFile {
				limit = x.limit
			}
			a, err := s.lookup(x.path, x.kind == qFile, limit)
			if err != nil {
				return nil, false, err
			}
			n := makeNode(x.path, a, refs)
			if x.kind == qFile {
				res.Files[x.key] = n
			} else {
				n.Content = nil
				res.Stats[x.key] = n
			}
			ok = a.v != pending
		case qGlob:
			var nodes []Node
			nodes, ok, err = s.glob(x.path, x.limit, refs)
			if err != nil {
				return nil, false, err
			}
			res.Globs[x.key] = nodes
		}
		if !ok {
			res.unsettled[x.key] = true
		}
	}
	return res, len(res.unsettled) == 0, nil
}

// glob lists the files directly inside dir. ok is false while a lower layer
// could still add or change entries; the nodes are then the ones known so far.
func (s *state) glob(dir string, limit int64, refs []Layer) (nodes []Node, ok bool, err error) {
	a, err := s.lookup(dir, true, 0)
	if err != nil || a.v == pending {
		return nil, false, err
	}
	if a.v == absent || a.o.kind != KindDir {
		return nil, true, nil
	}
	if a.path == "" {
		return nil, false, errors.New("a glob of the root directory is not supported")
	}
	t := s.paths[a.path]
	if !t.glob {
		// Reached through a symlink: this directory's children were not
		// recorded yet, so its layers must be read (again).
		t.glob, t.gLimit = true, max(t.gLimit, limit)
		clear(t.covered)
		return nil, false, nil
	}
	ok = t.globSettled()
	for _, child := range t.children {
		c, err := s.lookup(child, true, max(t.gLimit, limit))
		if err != nil {
			return nil, false, err
		}
		switch {
		case c.v == pending:
			ok = false
		case c.v == found && c.o.kind == KindRegular:
			nodes = append(nodes, makeNode(child, c, refs))
		}
	}
	slices.SortFunc(nodes, func(x, y Node) int { return strings.Compare(x.Path, y.Path) })
	return nodes, ok, nil
}

// makeNode turns a lookup answer into a Node for the asked path.
func makeNode(asked string, a answer, refs []Layer) Node {
	switch a.v {
	case pending:
		return Node{Path: asked, Kind: KindUnknown}
	case absent:
		return Node{Path: asked, RealPath: a.path, Kind: KindAbsent}
	}
	n := Node{Path: asked, RealPath: a.path, Kind: a.o.kind, Mode: a.o.mode, Size: a.o.size, Content: a.o.content}
	if a.o.kind == KindSymlink {
		n.Target = a.o.target
	}
	if a.pos >= 0 {
		n.Layer = refs[a.pos]
	}
	return n
}
