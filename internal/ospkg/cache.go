package ospkg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// inventoryVersion changes whenever Inspect would build a different
// inventory from the same layers, or the key changes shape, so that old
// cache entries stop matching.
const inventoryVersion = "ospkg-inventory-v3"

// CacheEntry is what a Cache stores for one image: an inventory, or the
// reason the image is unsupported.
type CacheEntry struct {
	// Inventory is the image's inventory (nil when Unsupported is set).
	Inventory *Inventory `json:"inventory,omitempty"`
	// Unsupported is the UnsupportedOSError reason, if the image has one.
	Unsupported string `json:"unsupported,omitempty"`
}

// Cache stores inventories by CacheKey.
type Cache interface {
	// Get returns the entry for key; ok is false when there is none.
	Get(ctx context.Context, key string) (e *CacheEntry, ok bool, err error)
	// Put stores the entry for key.
	Put(ctx context.Context, key string, e *CacheEntry) error
}

// CacheKey returns the key under which an image's inventory is cached: a
// hash of the inventory format version, the config's OS and, for each layer
// in order, the blob digest the manifest names and the diff_id the config
// names. Computing it reads the manifest and the config (checked against
// the manifest's config digest) but no layer.
//
// Inspect writes an entry only after every layer it read matched both its
// digest and its diff_id (imagefs checks each layer to its end), so the
// layers an entry was built from are exactly the bytes those digests name.
// Another image finds the entry only if it names the same digests in the
// same order: the layers that were read then hold the same bytes now, and
// the layers that were not read did not count. An image that claims
// another's diff_ids over different blobs gets another key, and an image
// whose blobs do not match its own digests fails before anything is stored.
func CacheKey(img v1.Image) (string, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("cache key: config: %w", err)
	}
	layers, err := imagefs.ImageLayers(img)
	if err != nil {
		return "", fmt.Errorf("cache key: %w", err)
	}
	return cacheKey(cfg.OS, layers), nil
}

// cacheKey is CacheKey over an image's OS and layers.
func cacheKey(os string, layers []imagefs.Layer) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nos=%s\n", inventoryVersion, os)
	for _, l := range layers {
		fmt.Fprintf(h, "%s %s\n", l.Digest, l.DiffID)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// footprint estimates the size of e's JSON encoding before it is encoded.
func (e *CacheEntry) footprint() int {
	n := 256
	if e.Inventory != nil {
		for i := range e.Inventory.Packages {
			n += e.Inventory.Packages[i].footprint()
		}
	}
	return n
}

// DirCache is a Cache keeping one JSON file per key in a directory. Writes
// are atomic (temporary file, then rename), so concurrent scanners never
// read half an entry. An unreadable or corrupt entry counts as missing.
type DirCache struct {
	dir string
}

// NewDirCache returns a cache in dir, creating the directory if needed.
func NewDirCache(dir string) (*DirCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("inventory cache %s: %w", dir, err)
	}
	return &DirCache{dir: dir}, nil
}

// path returns the file for a key, refusing keys that are not plain names.
func (c *DirCache) path(key string) (string, error) {
	if key == "" || !filepath.IsLocal(key) || filepath.Base(key) != key {
		return "", fmt.Errorf("inventory cache: invalid key %q", key)
	}
	return filepath.Join(c.dir, key+".json"), nil
}

// Get implements Cache.
func (c *DirCache) Get(ctx context.Context, key string) (*CacheEntry, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	p, err := c.path(key)
	if err != nil {
		return nil, false, err
	}
	if fi, err := os.Stat(p); err == nil && fi.Size() > MaxCacheEntrySize {
		return nil, false, nil // not written by Put: treat as corrupt
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("inventory cache: %w", err)
	}
	var e CacheEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Inventory == nil && e.Unsupported == "" {
		return nil, false, nil
	}
	return &e, true, nil
}

// Put implements Cache.
func (c *DirCache) Put(ctx context.Context, key string, e *CacheEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := c.path(key)
	if err != nil {
		return err
	}
	if n := e.footprint(); n > MaxCacheEntrySize {
		return fmt.Errorf("inventory cache: entry %s: %w", key, tooLarge("inventory", n, MaxCacheEntrySize))
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("inventory cache: encode %s: %w", key, err)
	}
	if len(data) > MaxCacheEntrySize {
		return fmt.Errorf("inventory cache: entry %s: %w", key, tooLarge("encoded inventory", len(data), MaxCacheEntrySize))
	}
	tmp, err := os.CreateTemp(c.dir, key+".*.tmp")
	if err != nil {
		return fmt.Errorf("inventory cache: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("inventory cache: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("inventory cache: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("inventory cache: %w", err)
	}
	return nil
}
