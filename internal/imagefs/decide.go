package imagefs

// verdict is how far the layers read so far settle a literal path.
type verdict uint8

const (
	pending verdict = iota // a layer that could change the answer is unread
	found                  // the path exists; see the observation
	absent                 // the path does not exist in the final filesystem
)

// decide settles a literal path by scanning the layers from the top: the
// first layer holding the path wins, unless a whiteout, an opaque ancestor
// or a non-directory ancestor hides everything below first.
func (t *tracked) decide() (verdict, *obs, int) {
	for pos, covered := range t.covered {
		if !covered {
			return pending, nil, pos
		}
		if o := t.entry[pos]; o != nil {
			return found, o, pos
		}
		if t.hiddenAt(pos) {
			return absent, nil, pos
		}
	}
	return absent, nil, len(t.covered)
}

// globSettled reports whether no unread layer can add children to a glob
// directory: its content is hidden from some layer down, or every layer was
// read.
func (t *tracked) globSettled() bool {
	for pos, covered := range t.covered {
		if !covered {
			return false
		}
		if t.childrenHiddenAt(pos) {
			return true
		}
	}
	return true
}

// needs reports whether reading layer pos could still tell something about
// the path: it was not examined there and no higher layer settles it.
func (t *tracked) needs(pos int) bool {
	if t.covered[pos] {
		return false
	}
	for p := range pos {
		if !t.covered[p] {
			return true
		}
		if t.glob && t.childrenHiddenAt(p) || !t.glob && (t.entry[p] != nil || t.hiddenAt(p)) {
			return false
		}
	}
	return true
}

// hiddenAt reports whether layer pos hides the path itself in lower layers:
// it, or an ancestor, is whited out there, or an ancestor is opaque or not a
// directory there.
func (t *tracked) hiddenAt(pos int) bool {
	if t.whiteout[pos] {
		return true
	}
	for _, a := range t.anc {
		if a.whiteout[pos] || a.opaque[pos] {
			return true
		}
		if o := a.entry[pos]; o != nil && o.kind != KindDir {
			return true
		}
	}
	return false
}

// childrenHiddenAt reports whether layer pos hides, in lower layers, every
// entry beneath the path.
func (t *tracked) childrenHiddenAt(pos int) bool {
	if t.opaque[pos] || t.hiddenAt(pos) {
		return true
	}
	o := t.entry[pos]
	return o != nil && o.kind != KindDir
}
