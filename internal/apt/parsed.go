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

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/parsedcache"
)

// IndexStats counts how the Packages indexes a client loaded were
// obtained (Parsed from deb822, Loaded from the cache's parsed tables,
// Rejected and rebuilt), for tests, benchmarks and logs.
type IndexStats = parsedcache.Stats

// IndexStats returns the counts since the client was made.
func (c *Client) IndexStats() IndexStats { return c.parsed.Stats() }

// packageKeep are the fields of a Packages stanza that packageFromParagraph
// reads; the reader drops the rest (descriptions, tags, maintainers).
var packageKeep = []string{"package", "version", "architecture", "source", "depends", "pre-depends",
	"breaks", "conflicts", "provides", "replaces", "multi-arch", "essential", "filename", "size", "sha256"}

// parsedIndex returns the parsed form of a verified index file: the one
// this client holds in memory while the SHA256 of url is unchanged, else
// the checked table on disk, else a table built from the raw index. The
// raw file is hashed again as it is parsed; when the stored copy no longer
// matches the signed SHA256 it is removed and downloaded once more.
func (c *Client) parsedIndex(ctx context.Context, url string, entry IndexFile, f compression.Format) (*parsedcache.Table, error) {
	if !isSHA256(entry.SHA256) {
		return nil, fmt.Errorf("GET %s: invalid SHA256 %q", url, entry.SHA256)
	}
	for attempt := 0; ; attempt++ {
		var raw string
		tab, err := c.parsed.Get(ctx, url, entry.SHA256, func(ctx context.Context, w *parsedcache.Writer) error {
			var err error
			if raw, err = c.fetchVerified(ctx, url, entry.Size, entry.SHA256); err != nil {
				return err
			}
			return c.parseRaw(ctx, url, raw, entry, f, w)
		})
		if errors.Is(err, ErrHashMismatch) && attempt == 0 && raw != "" {
			logctx.From(ctx, c.log).WarnContext(ctx, "apt: cached index changed on disk; downloading it again", "url", url, "file", raw, "err", err)
			if rerr := os.Remove(raw); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				return nil, fmt.Errorf("removing %s: %w", raw, rerr)
			}
			continue
		}
		return tab, err
	}
}

// parseRaw streams the raw index at raw through the deb822 reader into w,
// checking its SHA256 as it goes.
func (c *Client) parseRaw(ctx context.Context, url, raw string, entry IndexFile, f compression.Format, w *parsedcache.Writer) error {
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
	n, err := writeTable(ctx, zr, w)
	if err != nil {
		err = fmt.Errorf("parsing %s: %w", url, err)
	}
	if err := checkRaw(err); err != nil {
		return err
	}
	logctx.From(ctx, c.log).DebugContext(ctx, "apt: parsed index", "url", url, "packages", n)
	return nil
}

// writeTable parses the decompressed Packages index r into a table
// added to w, holding one stanza at a time, and returns the number of
// packages.
func writeTable(ctx context.Context, r io.Reader, w *parsedcache.Writer) (int, error) {
	var rec []byte
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
		rec = encodeRecord(rec[:0], &pkg)
		if err := w.Add(rec, []string{pkg.Name}); err != nil {
			return 0, err
		}
	}
	return n, nil
}
