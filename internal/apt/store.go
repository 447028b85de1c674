package apt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/patchloop/patchloop/internal/httpcache"
	"github.com/patchloop/patchloop/internal/logctx"
)

// storeDir holds verified downloads named by their SHA256.
const storeDir = "sha256"

// ErrHashMismatch is wrapped by errors about a download whose size or
// SHA256 differs from what the signed metadata promised.
var ErrHashMismatch = errors.New("size or SHA256 mismatch")

// fetchVerified returns the path of a local copy of url whose content has
// the given size and SHA256, downloading it unless the store already has
// it. A download that does not match is deleted, never stored.
func (c *Client) fetchVerified(ctx context.Context, url string, size int64, sum string) (string, error) {
	if !isSHA256(sum) {
		return "", fmt.Errorf("GET %s: invalid SHA256 %q", url, sum)
	}
	dest := filepath.Join(c.dir, storeDir, sum)
	if storeHas(dest, size) {
		logctx.From(ctx, c.log).DebugContext(ctx, "apt: cache hit", "url", url)
		return dest, nil
	}
	return c.files.Do(ctx, sum, func(ctx context.Context) (string, error) {
		if storeHas(dest, size) {
			return dest, nil
		}
		if err := c.download(ctx, url, dest, size, sum); err != nil {
			return "", err
		}
		return dest, nil
	})
}

// storeHas reports whether a complete entry is stored. Entries are renamed
// into place only after verification, so the size check guards only
// against outside tampering with the cache.
func storeHas(path string, size int64) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// download streams url into dest, hashing as it goes.
func (c *Client) download(ctx context.Context, url, dest string, size int64, sum string) error {
	n, err := httpcache.Download(ctx, c.http, url, dest, func(f *os.File, body io.Reader) (int64, error) {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, size+1))
		switch {
		case err != nil:
			return n, fmt.Errorf("GET %s: %w", url, err)
		case n > size:
			return n, fmt.Errorf("GET %s: more than the expected %d bytes: %w", url, size, ErrHashMismatch)
		case n < size:
			return n, fmt.Errorf("GET %s: got %d bytes, want %d: %w", url, n, size, ErrHashMismatch)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			return n, fmt.Errorf("GET %s: SHA256 %s, want %s: %w", url, got, sum, ErrHashMismatch)
		}
		return n, nil
	})
	if err != nil {
		return err
	}
	logctx.From(ctx, c.log).InfoContext(ctx, "apt: downloaded", "url", url, "bytes", n)
	return nil
}
