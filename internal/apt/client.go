package apt

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
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

	bodies  flightGroup[[]byte]    // revalidated downloads, by URL
	files   flightGroup[string]    // verified downloads, by SHA256
	indexes flightGroup[[]Package] // parsed Packages indexes, by SHA256

	mu     sync.Mutex
	parsed map[string]parsedIndex // last parsed index, by URL
}

type parsedIndex struct {
	sha256 string
	pkgs   []Package
}

// NewClient returns a client that caches under opts.CacheDir, creating it
// if needed.
func NewClient(opts Options) (*Client, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("apt client: no cache directory")
	}
	for _, sub := range []string{httpCacheDir, storeDir} {
		if err := os.MkdirAll(filepath.Join(opts.CacheDir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("apt client: creating cache: %w", err)
		}
	}
	c := &Client{
		http:    opts.HTTPClient,
		dir:     opts.CacheDir,
		log:     opts.Logger,
		keyring: opts.Keyring,
		now:     opts.Now,
		parsed:  map[string]parsedIndex{},
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// statusError is an unexpected HTTP response status.
type statusError struct {
	URL  string
	Code int
}

// Error names the URL and the status.
func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// isNotFound reports whether err is a 404 or 410 response.
func isNotFound(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone)
}
