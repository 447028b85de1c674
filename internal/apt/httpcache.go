package apt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

const (
	// httpCacheDir holds revalidated files (InRelease, Release,
	// Release.gpg), one per URL.
	httpCacheDir = "http"
	// maxReleaseSize bounds a Release-type file; Debian's are ~200 KiB.
	maxReleaseSize = 32 << 20
)

// cacheMeta is the validator data stored ahead of a cached body.
type cacheMeta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// getRevalidated returns the body at url. A cached copy is revalidated
// with If-None-Match and If-Modified-Since and reused on 304 Not Modified.
// The caller must verify the content: the cache only saves transfers.
func (c *Client) getRevalidated(ctx context.Context, url string) ([]byte, error) {
	return c.bodies.do(ctx, url, func(ctx context.Context) ([]byte, error) {
		path := filepath.Join(c.dir, httpCacheDir, urlKey(url))
		meta, cached := readCacheEntry(path, url)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		if cached != nil {
			if meta.ETag != "" {
				req.Header.Set("If-None-Match", meta.ETag)
			}
			if meta.LastModified != "" {
				req.Header.Set("If-Modified-Since", meta.LastModified)
			}
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotModified && cached != nil:
			c.log.DebugContext(ctx, "apt: not modified", "url", url)
			return cached, nil
		case resp.StatusCode != http.StatusOK:
			return nil, &statusError{URL: url, Code: resp.StatusCode}
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxReleaseSize+1))
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		if len(body) > maxReleaseSize {
			return nil, fmt.Errorf("GET %s: larger than %d bytes", url, maxReleaseSize)
		}
		c.log.DebugContext(ctx, "apt: fetched", "url", url, "bytes", len(body))
		meta = cacheMeta{URL: url, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
		if err := writeCacheEntry(path, meta, body); err != nil {
			c.log.WarnContext(ctx, "apt: cannot cache", "url", url, "err", err)
		}
		return body, nil
	})
}

// urlKey names the cache entry of a URL.
func urlKey(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:])
}

// readCacheEntry returns the stored validators and body for url, or a nil
// body when there is no usable entry.
func readCacheEntry(path, url string) (cacheMeta, []byte) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cacheMeta{}, nil
	}
	head, body, ok := bytes.Cut(data, []byte("\n"))
	var meta cacheMeta
	if !ok || json.Unmarshal(head, &meta) != nil || meta.URL != url {
		return cacheMeta{}, nil
	}
	return meta, body
}

// writeCacheEntry stores validators and body in one file, replaced
// atomically so that readers never see a torn entry.
func writeCacheEntry(path string, meta cacheMeta, body []byte) error {
	head, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(append(head, '\n'), body...))
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}
