package imagefs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// View answers questions about the final filesystem of one image. It is safe
// for concurrent use.
//
// Every layer a View reads is checked to the end: its blob against the
// manifest's digest and its uncompressed tar against the config's diff_id.
// An answer is only returned once every layer read for it matched both; a
// difference is an error matching ErrDigestMismatch.
type View struct {
	image  v1.Hash
	layers []v1.Layer  // top layer first
	descs  []layerDesc // top layer first
	refs   []Layer     // top layer first
	spool  *spool      // nil unless WithSpool
	opened atomic.Int64
}

// Option changes how a View reads layers.
type Option func(*View)

// WithSpool keeps the uncompressed tar of each layer the view reads, once
// it has been read to the end and matched its digests, in a temporary file
// in dir; later reads of that layer by the same view come from the file
// instead of the registry. Close removes the files.
func WithSpool(dir string) Option {
	return func(v *View) { v.spool = &spool{dir: dir, files: map[int]string{}} }
}

// Open prepares a view of img. It reads the image's manifest and config
// once each, for the layer list, and opens no layer. The config must match
// the manifest's config digest, and the image may have at most MaxLayers
// layers.
func Open(ctx context.Context, img v1.Image, opts ...Option) (*View, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("imagefs: %w", err)
	}
	id, descs, err := describe(img)
	if err != nil {
		return nil, fmt.Errorf("imagefs: %w", err)
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("imagefs: image %s: list layers: %w", id, err)
	}
	if len(ls) != len(descs) {
		return nil, fmt.Errorf("imagefs: image %s: %d layers listed, the manifest has %d", id, len(ls), len(descs))
	}
	v := &View{image: id}
	for _, o := range opts {
		o(v)
	}
	for i := len(ls) - 1; i >= 0; i-- {
		v.layers = append(v.layers, ls[i])
		v.descs = append(v.descs, descs[i])
		v.refs = append(v.refs, descs[i].Layer)
	}
	return v, nil
}

// Close removes the files WithSpool kept. The view must not be used after.
func (v *View) Close() error {
	if v.spool == nil {
		return nil
	}
	return v.spool.close()
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
	n, err := v.walk(ctx, pos, lp.record)
	if err != nil {
		return n, err
	}
	if len(lp.links) > 0 {
		m, err := v.walk(ctx, pos, lp.captureLinkSources)
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

// walk streams the entries of the layer at position pos to fn, from the
// spool when it holds the layer, else from the image, checking the layer's
// digests (and keeping it in the spool when there is one).
func (v *View) walk(ctx context.Context, pos int, fn func(Entry, io.Reader) error) (int64, error) {
	v.opened.Add(1)
	ref := v.refs[pos]
	if f, err := v.spool.open(pos); err != nil {
		return 0, fmt.Errorf("%s: %w", ref, err)
	} else if f != nil {
		defer func() { _ = f.Close() }()
		return walkTar(ctx, f, ref, fn)
	}
	keep := v.spool.create()
	n, err := walkVerified(ctx, v.image, v.layers[pos], v.descs[pos], fn, keep.writer())
	if err != nil {
		keep.discard()
		return n, err
	}
	v.spool.commit(pos, keep)
	return n, nil
}
