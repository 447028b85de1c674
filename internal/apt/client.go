package apt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/patchloop/patchloop/internal/httpcache"
	"github.com/patchloop/patchloop/internal/parsedcache"
)

// Options configures a Client.
type Options struct {
	// CacheDir holds downloaded indexes and packages; required. Several
	// clients, in one process or several, may share it.
	CacheDir string
	// HTTPClient makes the requests; nil means a client over
	// http.DefaultTransport. Retries belong in its transport.
	HTTPClient *http.Client
	// Logger receives progress at debug level and warnings; nil means
	// slog.Default().
	Logger *slog.Logger
	// Keyring verifies sources that have none of their own.
	Keyring *Keyring
	// Now gives the time for signature and Valid-Until checks; nil means
	// time.Now.
	Now func() time.Time
}

// Client fetches and verifies repository data. Its methods are safe for
// concurrent use.
type Client struct {
	http    *http.Client
	dir     string
	log     *slog.Logger
	keyring *Keyring
	now     func() time.Time

	cache  *httpcache.Cache        // revalidated Release files
	files  httpcache.Group[string] // verified downloads, by SHA256
	parsed *parsedcache.Cache      // parsed Packages indexes, by SHA256
}

// NewClient returns a client that caches under opts.CacheDir, creating it
// if needed.
func NewClient(opts Options) (*Client, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("apt client: no cache directory")
	}
	for _, d := range []string{storeDir, parsedDir} {
		if err := os.MkdirAll(filepath.Join(opts.CacheDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("apt client: creating cache: %w", err)
		}
	}
	c := &Client{
		http:    opts.HTTPClient,
		dir:     opts.CacheDir,
		log:     opts.Logger,
		keyring: opts.Keyring,
		now:     opts.Now,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	cache, err := httpcache.New(filepath.Join(opts.CacheDir, httpCacheDir), c.http, c.log)
	if err != nil {
		return nil, fmt.Errorf("apt client: %w", err)
	}
	c.cache = cache
	c.parsed, err = parsedcache.New(parsedcache.Options{Dir: filepath.Join(opts.CacheDir, parsedDir), Magic: tableMagic, Indexes: 1, Logger: c.log, Name: "apt"})
	if err != nil {
		return nil, fmt.Errorf("apt client: %w", err)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// httpCacheDir holds revalidated files (InRelease, Release, Release.gpg),
// one per URL.
const httpCacheDir = "http"

// maxReleaseSize bounds a Release-type file; Debian's are ~200 KiB.
const maxReleaseSize = 32 << 20

// getRevalidated returns the body at url through the revalidated cache.
func (c *Client) getRevalidated(ctx context.Context, url string) ([]byte, error) {
	return c.cache.Get(ctx, url, maxReleaseSize)
}
