package apt

import (
	"github.com/patchloop/patchloop/internal/logctx"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/deb/compression"
)

// IndexStats counts how the Packages indexes a client loaded were
// obtained, for tests, benchmarks and logs.
type IndexStats struct {
	// Parsed is how many raw indexes were parsed from deb822.
	Parsed int64
	// Loaded is how many parsed indexes were read back from the cache
	// directory after passing their checks.
	Loaded int64
	// Rejected is how many parsed index files failed their checks and
	// were rebuilt.
	Rejected int64
}

// IndexStats returns the counts since the client was made.
func (c *Client) IndexStats() IndexStats {
	return IndexStats{Parsed: c.stats.parsed.Load(), Loaded: c.stats.loaded.Load(), Rejected: c.stats.rejected.Load()}
}

// packageKeep are the fields of a Packages stanza that packageFromParagraph
// reads; the reader drops the rest (descriptions, tags, maintainers).
var packageKeep = []string{"package", "version", "architecture", "source", "depends", "pre-depends",
	"breaks", "conflicts", "provides", "replaces", "multi-arch", "essential", "filename", "size", "sha256"}

// parsedIndex returns the parsed form of a verified index file: the one
// this client holds in memory while the SHA256 of url is unchanged, else
// the checked table on disk, else a table built from the raw index.
func (c *Client) parsedIndex(ctx context.Context, url string, entry IndexFile, f compression.Format) (*table, error) {
	if !isSHA256(entry.SHA256) {
		return nil, fmt.Errorf("GET %s: invalid SHA256 %q", url, entry.SHA256)
	}
	c.mu.Lock()
	p, ok := c.parsed[url]
	c.mu.Unlock()
	if ok && p.sha256 == entry.SHA256 {
		return p.tab, nil
	}
	tab, err := c.indexes.Do(ctx, entry.SHA256, func(ctx context.Context) (*table, error) {
		return c.loadOrBuildTable(ctx, url, entry, f)
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.parsed[url] = parsedEntry{sha256: entry.SHA256, tab: tab}
	c.mu.Unlock()
	return tab, nil
}

// loadOrBuildTable reads the table of entry from disk, or builds it.
func (c *Client) loadOrBuildTable(ctx context.Context, url string, entry IndexFile, f compression.Format) (*table, error) {
	dir := filepath.Join(c.dir, parsedDir)
	key, err := parsedKey(dir)
	if err != nil {
		return nil, fmt.Errorf("parsed index cache: %w", err)
	}
	path := filepath.Join(dir, entry.SHA256)
	data, err := os.ReadFile(path)
	if err == nil {
		tab, err := openTable(data, key, entry.SHA256)
		if err == nil {
			c.stats.loaded.Add(1)
			logctx.From(ctx, c.log).DebugContext(ctx, "apt: loaded parsed index", "url", url, "packages", tab.count)
			return tab, nil
		}
		c.stats.rejected.Add(1)
		logctx.From(ctx, c.log).WarnContext(ctx, "apt: rebuilding parsed index from the raw index", "url", url, "file", path, "err", err)
	} else if !errors.Is(err, os.ErrNotExist) {
		logctx.From(ctx, c.log).WarnContext(ctx, "apt: rebuilding parsed index from the raw index", "url", url, "file", path, "err", err)
	}
	if err := c.buildTable(ctx, url, entry, f, key, path); err != nil {
		return nil, err
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading parsed index of %s: %w", url, err)
	}
	tab, err := openTable(data, key, entry.SHA256)
	if err != nil {
		return nil, fmt.Errorf("parsed index of %s (%s): %w", url, path, err)
	}
	return tab, nil
}

// buildTable parses the raw index of entry into a table file at path. The
// raw file is hashed again as it is read; when the stored copy no longer
// matches the signed SHA256 it is removed and downloaded once more.
func (c *Client) buildTable(ctx context.Context, url string, entry IndexFile, f compression.Format, key []byte, path string) error {
	for attempt := 0; ; attempt++ {
		raw, err := c.fetchVerified(ctx, url, entry.Size, entry.SHA256)
		if err != nil {
			return err
		}
		err = c.parseToTable(ctx, url, raw, entry, f, key, path)
		if errors.Is(err, ErrHashMismatch) && attempt == 0 {
			logctx.From(ctx, c.log).WarnContext(ctx, "apt: cached index changed on disk; downloading it again", "url", url, "file", raw, "err", err)
			if rerr := os.Remove(raw); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				return fmt.Errorf("removing %s: %w", raw, rerr)
			}
			continue
		}
		return err
	}
}

// parseToTable streams the raw index at raw through the deb822 reader into
// a new table file, then renames it to path.
func (c *Client) parseToTable(ctx context.Context, url, raw string, entry IndexFile, f compression.Format, key []byte, path string) error {
	fh, err := os.Open(raw)
	if err != nil {
		return fmt.Errorf("reading %s: %w", url, err)
	}
	defer fh.Close()
	h := sha256.New()
	tee := io.TeeReader(fh, h)
	// checkRaw reads what the parse left and compares the SHA256: a parse
	// error on a stored file that no longer matches is a hash mismatch.
	checkRaw := func(parseErr error) error {
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return fmt.Errorf("reading %s: %w", url, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != entry.SHA256 {
			return fmt.Errorf("cached %s: SHA256 %s, want %s: %w", url, got, entry.SHA256, ErrHashMismatch)
		}
		return parseErr
	}
	zr, err := compression.NewReader(tee, f)
	if err != nil {
		return checkRaw(fmt.Errorf("reading %s: %w", url, err))
	}
	defer zr.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.partial")
	if err != nil {
		return fmt.Errorf("parsed index cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // No-op once renamed.
	n, err := writeTable(ctx, zr, tmp, key, entry.SHA256)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		return fmt.Errorf("parsed index cache: %w", cerr)
	}
	if err != nil {
		err = fmt.Errorf("parsing %s: %w", url, err)
	}
	if err := checkRaw(err); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("parsed index cache: %w", err)
	}
	c.stats.parsed.Add(1)
	logctx.From(ctx, c.log).DebugContext(ctx, "apt: parsed index", "url", url, "packages", n)
	return nil
}

// writeTable parses the decompressed Packages index r into a table
// written to w, holding one stanza at a time, and returns the number of
// packages.
func writeTable(ctx context.Context, r io.Reader, w io.Writer, key []byte, sourceSHA256 string) (int, error) {
	tw, err := newTableWriter(w, key, sourceSHA256)
	if err != nil {
		return 0, err
	}
	pr := deb.NewParagraphReader(r)
	pr.SetLimits(deb.Limits{Keep: packageKeep})
	n := 0
	for ; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		p, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		pkg, err := packageFromParagraph(p)
		if err != nil {
			return 0, fmt.Errorf("stanza ending at line %d: %w", pr.Line(), err)
		}
		if err := tw.add(pkg); err != nil {
			return 0, err
		}
	}
	return n, tw.finish()
}
