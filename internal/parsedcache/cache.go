package parsedcache

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/patchloop/patchloop/internal/httpcache"
	"github.com/patchloop/patchloop/internal/logctx"
)

// Stats count how the tables a Cache returned were obtained, for tests,
// benchmarks and logs.
type Stats struct {
	// Parsed is how many raw indexes were parsed.
	Parsed int64
	// Loaded is how many tables were read back from disk after passing
	// their checks.
	Loaded int64
	// Rejected is how many table files failed their checks and were
	// rebuilt.
	Rejected int64
}

// Options configure a Cache.
type Options struct {
	// Dir holds the tables, one file per source SHA256, and their MAC key;
	// it is created if needed.
	Dir string
	// Magic is the 8-byte format tag of the tables; change it when the
	// record encoding changes.
	Magic string
	// Indexes is the number of key indexes of each table.
	Indexes int
	// Logger receives debug messages and warnings, prefixed with Name.
	Logger *slog.Logger
	// Name prefixes log messages ("apt", "apk").
	Name string
}

// A Cache returns the table of a verified raw index: the one it holds in
// memory for the URL while the SHA256 is unchanged, else the checked file
// on disk, else one built by the caller's parse. It is safe for concurrent
// use; processes may share its directory.
type Cache struct {
	opts  Options
	group httpcache.Group[*Table]

	mu  sync.Mutex
	mem map[string]memEntry // last table, by URL

	parsed, loaded, rejected atomic.Int64
}

type memEntry struct {
	source string
	tab    *Table
}

// New returns a cache over opts.Dir.
func New(opts Options) (*Cache, error) {
	if len(opts.Magic) != magicLen {
		return nil, fmt.Errorf("parsed index cache: magic %q is not %d bytes", opts.Magic, magicLen)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("parsed index cache: %w", err)
	}
	return &Cache{opts: opts, mem: map[string]memEntry{}}, nil
}

// Stats returns the counts since the cache was made.
func (c *Cache) Stats() Stats {
	return Stats{Parsed: c.parsed.Load(), Loaded: c.loaded.Load(), Rejected: c.rejected.Load()}
}

// Get returns the table of the raw index at url whose verified SHA256
// (hex) is source. When neither memory nor disk has a good one, parse is
// called to add the records to a new table; its error is returned as is.
// A new SHA256 for a URL replaces the table held for it.
func (c *Cache) Get(ctx context.Context, url, source string, parse func(ctx context.Context, w *Writer) error) (*Table, error) {
	c.mu.Lock()
	e, ok := c.mem[url]
	c.mu.Unlock()
	if ok && e.source == source {
		return e.tab, nil
	}
	tab, err := c.group.Do(ctx, source, func(ctx context.Context) (*Table, error) {
		return c.loadOrBuild(ctx, url, source, parse)
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.mem[url] = memEntry{source: source, tab: tab}
	c.mu.Unlock()
	return tab, nil
}

// loadOrBuild reads the table of source from disk, or builds it.
func (c *Cache) loadOrBuild(ctx context.Context, url, source string, parse func(ctx context.Context, w *Writer) error) (*Table, error) {
	log := logctx.From(ctx, c.opts.Logger)
	if _, err := hexSHA256(source); err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	key, err := Key(c.opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("parsed index cache: %w", err)
	}
	path := filepath.Join(c.opts.Dir, source)
	tab, err := c.open(path, key, source)
	if err == nil {
		c.loaded.Add(1)
		log.DebugContext(ctx, c.opts.Name+": loaded parsed index", "url", url, "bytes", tab.Size())
		return tab, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		if errors.Is(err, ErrBadTable) {
			c.rejected.Add(1)
		}
		log.WarnContext(ctx, c.opts.Name+": rebuilding parsed index from the raw index", "url", url, "file", path, "err", err)
	}
	if err := c.build(ctx, source, key, path, parse); err != nil {
		return nil, err
	}
	tab, err = c.open(path, key, source)
	if err != nil {
		return nil, fmt.Errorf("parsed index of %s (%s): %w", url, path, err)
	}
	c.parsed.Add(1)
	log.DebugContext(ctx, c.opts.Name+": parsed index", "url", url, "bytes", tab.Size())
	return tab, nil
}

// open opens and checks the table file at path.
func (c *Cache) open(path string, key []byte, source string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	tab, err := Open(f, key, c.opts.Magic, source, c.opts.Indexes)
	if err != nil {
		f.Close()
		return nil, err
	}
	return tab, nil
}

// build writes a new table at path from parse.
func (c *Cache) build(ctx context.Context, source string, key []byte, path string, parse func(ctx context.Context, w *Writer) error) error {
	tmp, err := os.CreateTemp(c.opts.Dir, source+".*.partial")
	if err != nil {
		return fmt.Errorf("parsed index cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // No-op once renamed.
	w, err := NewWriter(tmp, c.opts.Magic, key, source, c.opts.Indexes)
	if err == nil {
		if err = parse(ctx, w); err == nil {
			if ferr := w.Finish(); ferr != nil {
				err = fmt.Errorf("parsed index cache: %w", ferr)
			}
		}
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("parsed index cache: %w", cerr)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("parsed index cache: %w", err)
	}
	return nil
}

// hexSHA256 decodes a lowercase hex SHA256.
func hexSHA256(s string) ([]byte, error) {
	if len(s) != 64 || strings.ToLower(s) != s {
		return nil, fmt.Errorf("invalid SHA256 %q", s)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid SHA256 %q", s)
	}
	return b, nil
}
