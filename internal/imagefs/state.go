package imagefs

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// maxTracked bounds how many literal paths one Resolve may follow, so that
// crafted symlink farms cannot make it track without end.
const maxTracked = 16384

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// obs is what one layer holds at one literal path.
type obs struct {
	kind       Kind
	target     string // symlink target, or hard-link source path
	hardlink   bool
	mode       fs.FileMode
	size       int64
	content    []byte
	hasContent bool
}

// tracked is everything known about one literal path, layer by layer. Layer
// positions count from the top layer (0) down.
type tracked struct {
	path     string
	limit    int64      // capture file content of at most limit bytes (0: content not wanted)
	glob     bool       // record every direct child
	gLimit   int64      // content limit of a glob directory's children
	children []string   // child paths seen, for glob directories
	anc      []*tracked // proper ancestors, nearest first
	covered  []bool     // layers whose entries were examined for this path
	entry    map[int]*obs
	whiteout map[int]bool
	opaque   map[int]bool
}

// state is the per-Resolve store of tracked paths.
type state struct {
	nLayers  int
	maxSize  int64 // default content limit
	maxTotal int64 // cap on all content held
	held     int64 // content bytes read so far
	paths    map[string]*tracked
}

func newState(nLayers int, maxSize, maxTotal int64) *state {
	return &state{nLayers: nLayers, maxSize: maxSize, maxTotal: maxTotal, paths: make(map[string]*tracked)}
}

// want marks t's content as wanted under limit (0: the default limit).
func (s *state) want(t *tracked, limit int64) {
	if limit <= 0 {
		limit = s.maxSize
	}
	t.limit = max(t.limit, limit)
}

// hold accounts for size more bytes of content held, refusing to go over
// the total cap.
func (s *state) hold(path string, size int64) error {
	if s.held+size > s.maxTotal {
		return fmt.Errorf("%s: %d bytes would bring the wanted files to %d bytes, over the %d byte limit for all of them: %w", path, size, s.held+size, s.maxTotal, ErrTooLarge)
	}
	s.held += size
	return nil
}

// track starts following a literal path (and its ancestors). A path first
// tracked now has no layer examined for it yet, unless cover is given or it
// sits directly in a glob directory.
func (s *state) track(p string, cover []bool) (*tracked, error) {
	if t, ok := s.paths[p]; ok {
		return t, nil
	}
	if len(s.paths) >= maxTracked {
		return nil, fmt.Errorf("more than %d paths to follow (symlink farm?)", maxTracked)
	}
	t := &tracked{
		path:     p,
		covered:  make([]bool, s.nLayers),
		entry:    make(map[int]*obs),
		whiteout: make(map[int]bool),
		opaque:   make(map[int]bool),
	}
	if d := parentDir(p); d != "" {
		parent, err := s.track(d, cover)
		if err != nil {
			return nil, err
		}
		t.anc = append([]*tracked{parent}, parent.anc...)
		if parent.glob {
			// Every layer read for a glob directory recorded all of its
			// children, so a child is known for those layers already.
			cover = parent.covered
			parent.children = append(parent.children, p)
		}
	}
	if cover != nil {
		copy(t.covered, cover)
	}
	s.paths[p] = t
	return t, nil
}

// markCovered records that layer pos was fully examined for every tracked path.
func (s *state) markCovered(pos int) {
	for _, t := range s.paths {
		t.covered[pos] = true
	}
}

// layerPass collects one layer's entries into the state.
type layerPass struct {
	s   *state
	pos int
	// links are hard links to wanted files whose source must be captured.
	links []pendingLink
	// captured holds the content of this layer's wanted regular files, by path.
	captured map[string]*obs
}

// pendingLink is a wanted hard link whose source content is still missing.
type pendingLink struct {
	o      *obs
	source string
	path   string // the link's own path
	limit  int64  // the link's content limit
}

// record files one tar entry of the layer.
func (lp *layerPass) record(e Entry, body io.Reader) error {
	if e.Path == "" {
		return nil // the root is always a directory
	}
	dir, base := parentDir(e.Path), e.Path[strings.LastIndexByte(e.Path, '/')+1:]
	lp.impliedDirs(dir)
	switch {
	case base == opaqueMarker:
		if t := lp.s.paths[dir]; t != nil {
			t.opaque[lp.pos] = true
		}
		return nil
	case strings.HasPrefix(base, whiteoutPrefix):
		name := base[len(whiteoutPrefix):]
		if name == "" || name == "." || name == ".." {
			return fmt.Errorf("invalid whiteout %q", base)
		}
		t, err := lp.lookupOrChild(joinPath(dir, name), dir)
		if err != nil || t == nil {
			return err
		}
		t.whiteout[lp.pos] = true
		return nil
	}
	t, err := lp.lookupOrChild(e.Path, dir)
	if err != nil || t == nil {
		return err
	}
	o, err := lp.observe(t, e.Header, body)
	if err != nil {
		return err
	}
	t.entry[lp.pos] = o
	return nil
}

// impliedDirs marks the tracked ancestors of an entry as directories in this
// layer, unless the layer already holds an explicit entry for them.
func (lp *layerPass) impliedDirs(dir string) {
	for d := dir; d != ""; d = parentDir(d) {
		if t := lp.s.paths[d]; t != nil && t.entry[lp.pos] == nil {
			t.entry[lp.pos] = &obs{kind: KindDir, mode: fs.ModeDir | 0o755}
		}
	}
}

// lookupOrChild returns the tracked state for p, starting to track it when
// it is a direct child of a glob directory; nil means p is of no interest.
func (lp *layerPass) lookupOrChild(p, dir string) (*tracked, error) {
	if t := lp.s.paths[p]; t != nil {
		return t, nil
	}
	g := lp.s.paths[dir]
	if g == nil || !g.glob {
		return nil, nil
	}
	t, err := lp.s.track(p, nil)
	if err != nil {
		return nil, err
	}
	lp.s.want(t, g.gLimit)
	return t, nil
}

// observe turns a tar header (and, for wanted files, the body) into an obs.
func (lp *layerPass) observe(t *tracked, h *tar.Header, body io.Reader) (*obs, error) {
	o := &obs{mode: h.FileInfo().Mode(), size: h.Size}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		o.kind = KindRegular
	case tar.TypeDir:
		o.kind = KindDir
	case tar.TypeSymlink:
		o.kind, o.target = KindSymlink, h.Linkname
	case tar.TypeLink:
		o.kind, o.hardlink, o.target = KindRegular, true, relClean(h.Linkname)
	default:
		o.kind = KindOther
	}
	if t.limit == 0 || o.kind != KindRegular || lp.shadowed(t) {
		return o, nil
	}
	if o.hardlink {
		if src := lp.captured[o.target]; src != nil {
			if src.size > t.limit {
				return nil, fmt.Errorf("%s: hard link to a file of %d bytes, over the %d byte limit: %w", t.path, src.size, t.limit, ErrTooLarge)
			}
			o.content, o.hasContent, o.size = src.content, true, src.size
		} else {
			lp.links = append(lp.links, pendingLink{o: o, source: o.target, path: t.path, limit: t.limit})
		}
		return o, nil
	}
	if h.Size < 0 || h.Size > t.limit {
		return nil, fmt.Errorf("%s: file of %d bytes is over the %d byte limit: %w", t.path, h.Size, t.limit, ErrTooLarge)
	}
	if err := lp.s.hold(t.path, h.Size); err != nil {
		return nil, err
	}
	data, err := readCapped(body, h.Size, t.limit)
	if err != nil {
		return nil, err
	}
	o.content, o.hasContent = data, true
	if lp.captured == nil {
		lp.captured = make(map[string]*obs)
	}
	lp.captured[t.path] = o
	return o, nil
}

// shadowed reports whether an upper layer already read hides t's entry in
// this layer (it has its own entry or a whiteout there), so that its
// content can never be the answer.
func (lp *layerPass) shadowed(t *tracked) bool {
	for pos := range t.entry {
		if pos < lp.pos {
			return true
		}
	}
	for pos, w := range t.whiteout {
		if w && pos < lp.pos {
			return true
		}
	}
	return false
}

// readCapped reads a file body of the declared size, refusing sizes over max.
func readCapped(body io.Reader, size, maxSize int64) ([]byte, error) {
	if size < 0 || size > maxSize {
		return nil, fmt.Errorf("file of %d bytes is over the %d byte limit: %w", size, maxSize, ErrTooLarge)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(body, data); err != nil {
		return nil, fmt.Errorf("read %d bytes: %w", size, err)
	}
	return data, nil
}
