package imagefs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// View answers questions about the final filesystem of one image. It is safe
// for concurrent use.
type View struct {
	layers []v1.Layer // top layer first
	refs   []Layer    // top layer first
	opened atomic.Int64
}

// Open prepares a view of img. It reads the image's manifest and config for
// the layer list and opens no layer.
func Open(ctx context.Context, img v1.Image) (*View, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("imagefs: list layers: %w", err)
	}
	v := &View{}
	for i := len(ls) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("imagefs: %w", err)
		}
		ref, err := layerRef(ls[i], i)
		if err != nil {
			return nil, fmt.Errorf("imagefs: %w", err)
		}
		v.layers = append(v.layers, ls[i])
		v.refs = append(v.refs, ref)
	}
	return v, nil
}

// Layers returns the image's layers, bottom layer first.
func (v *View) Layers() []Layer {
	out := slices.Clone(v.refs)
	slices.Reverse(out)
	return out
}

// Opened returns how many times this view has opened a layer's content.
func (v *View) Opened() int64 { return v.opened.Load() }

// Stat returns the kind of each path in the final filesystem, following
// symlinks in parent directories but not at the last element.
func (v *View) Stat(ctx context.Context, paths ...string) (map[string]Node, error) {
	res, err := v.Resolve(ctx, Request{Stat: paths})
	if err != nil {
		return nil, err
	}
	return res.Stats, nil
}

// Resolve answers req, reading layers from the top down and stopping as soon
// as every path is settled (found, or proved absent) and no glob can gain
// entries from a lower layer, or as soon as req.Enough says so.
func (v *View) Resolve(ctx context.Context, req Request) (*Result, error) {
	maxSize := req.MaxFileSize
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	maxTotal := req.MaxTotalSize
	if maxTotal <= 0 {
		maxTotal = DefaultMaxTotalSize
	}
	s := newState(len(v.layers), maxSize, maxTotal)
	q, err := compile(s, req)
	if err != nil {
		return nil, fmt.Errorf("imagefs: %w", err)
	}
	var read []Layer
	var bytes int64
	finish := func(res *Result, complete bool) *Result {
		res.Complete, res.LayersRead, res.BytesRead = complete, read, bytes
		return res
	}
	for {
		for pos := range v.layers {
			res, settled, err := q.answer(s, v.refs)
			if err != nil {
				return nil, fmt.Errorf("imagefs: %w", err)
			}
			if settled {
				return finish(res, true), nil
			}
			if !s.needsLayer(pos) {
				continue
			}
			if req.Enough != nil && req.Enough(finish(res, false)) {
				return finish(res, false), nil
			}
			n, err := v.read(ctx, s, pos)
			bytes += n
			if err != nil {
				return nil, fmt.Errorf("imagefs: %w", err)
			}
			if !slices.Contains(read, v.refs[pos]) {
				read = append(read, v.refs[pos])
			}
		}
		// Symlinks found on the way may have sent lookups to paths that the
		// upper layers were not read for: go round again.
		res, settled, err := q.answer(s, v.refs)
		if err != nil {
			return nil, fmt.Errorf("imagefs: %w", err)
		}
		if settled {
			return finish(res, true), nil
		}
		if !s.needsAnyLayer() {
			return nil, errors.New("imagefs: unsettled paths with no layer left to read")
		}
	}
}

// needsLayer reports whether some tracked path could learn from layer pos.
func (s *state) needsLayer(pos int) bool {
	for _, t := range s.paths {
		if t.needs(pos) {
			return true
		}
	}
	return false
}

// needsAnyLayer reports whether some layer could still tell something.
func (s *state) needsAnyLayer() bool {
	for pos := range s.nLayers {
		if s.needsLayer(pos) {
			return true
		}
	}
	return false
}

// read walks the layer at position pos into the state.
func (v *View) read(ctx context.Context, s *state, pos int) (int64, error) {
	lp := &layerPass{s: s, pos: pos}
	v.opened.Add(1)
	n, err := walk(ctx, v.layers[pos], v.refs[pos], lp.record)
	if err != nil {
		return n, err
	}
	if len(lp.links) > 0 {
		v.opened.Add(1)
		m, err := walk(ctx, v.layers[pos], v.refs[pos], lp.captureLinkSources)
		n += m
		if err != nil {
			return n, err
		}
		for _, l := range lp.links {
			if !l.o.hasContent {
				return n, fmt.Errorf("%s: hard link source %s is not a regular file of the layer", v.refs[pos], l.source)
			}
		}
	}
	s.markCovered(pos)
	return n, nil
}
