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
)

// inventoryVersion changes whenever Inspect would build a different
// inventory from the same layers, so that old cache entries stop matching.
const inventoryVersion = "ospkg-inventory-v1"

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
// hash of the inventory format version, the config's OS and the diffIDs of
// the layers in order. Two images with the same layers share it, whatever
// their tags or configs otherwise say, and computing it reads no layer.
func CacheKey(img v1.Image) (string, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("cache key: config: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\nos=%s\n", inventoryVersion, cfg.OS)
	ls, err := img.Layers()
	if err != nil {
		return "", fmt.Errorf("cache key: layers: %w", err)
	}
	for i, l := range ls {
		id, err := l.DiffID()
		if err != nil {
			return "", fmt.Errorf("cache key: layer %d diffID: %w", i, err)
		}
		fmt.Fprintf(h, "%s\n", id)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
