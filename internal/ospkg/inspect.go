package ospkg

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// Option changes how Inspect works.
type Option func(*options)

type options struct {
	cache Cache
}

// WithCache makes Inspect look the image up in c first (by CacheKey) and
// store what it finds there, unsupported images included.
func WithCache(c Cache) Option { return func(o *options) { o.cache = c } }

// Inspect finds the OS and the installed OS packages of img. Images whose OS
// is not supported (Windows, or no recognisable release file) give an
// *UnsupportedOSError, which matches ErrUnsupportedOS. Every layer read is
// checked against its digest and diff_id (see imagefs); a layer that does
// not match gives an error matching imagefs.ErrDigestMismatch, and nothing
// is cached for the image.
func Inspect(ctx context.Context, img v1.Image, opts ...Option) (*Inventory, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	view, err := imagefs.Open(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("ospkg: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("ospkg: image config: %w", err)
	}
	if cfg.OS == "windows" {
		return nil, &UnsupportedOSError{Reason: ReasonWindows}
	}
	var key string
	if o.cache != nil {
		key = cacheKey(cfg.OS, view.Layers())
		e, ok, err := o.cache.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("ospkg: %w", err)
		}
		if ok {
			return fromCache(e)
		}
	}
	inv, err := inspect(ctx, view)
	var unsupported *UnsupportedOSError
	switch {
	case errors.As(err, &unsupported):
		if o.cache != nil {
			if perr := o.cache.Put(ctx, key, &CacheEntry{Unsupported: unsupported.Reason}); perr != nil {
				return nil, fmt.Errorf("ospkg: %w", perr)
			}
		}
		return nil, err
	case err != nil:
		return nil, err
	}
	if o.cache != nil {
		if err := o.cache.Put(ctx, key, &CacheEntry{Inventory: inv}); err != nil {
			return nil, fmt.Errorf("ospkg: %w", err)
		}
	}
	return inv, nil
}

// inspect reads the image's layers through view.
func inspect(ctx context.Context, view *imagefs.View) (*Inventory, error) {
	res, err := view.Resolve(ctx, request())
	if err != nil {
		return nil, fmt.Errorf("ospkg: %w", err)
	}
	inv, err := buildInventory(ctx, res)
	if err != nil {
		var unsupported *UnsupportedOSError
		if errors.As(err, &unsupported) {
			return nil, err
		}
		return nil, fmt.Errorf("ospkg: %w", err)
	}
	return inv, nil
}

// fromCache turns a cache entry back into Inspect's answer.
func fromCache(e *CacheEntry) (*Inventory, error) {
	if e.Unsupported != "" {
		return nil, &UnsupportedOSError{Reason: e.Unsupported}
	}
	inv := *e.Inventory
	inv.LayersRead, inv.FromCache = nil, true
	return &inv, nil
}
