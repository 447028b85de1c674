package httpcache

import (
	"github.com/patchloop/patchloop/internal/logctx"

	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
)

// Cache fetches URLs, keeping one revalidated copy of each in a directory.
// It is safe for concurrent use, and several caches (in one process or
// several) may share a directory.
type Cache struct {
	http   *http.Client
	dir    string
	log    *slog.Logger
	bodies Group[[]byte]
}

// New returns a cache storing its entries in dir, which it creates. A nil
// client means one over http.DefaultTransport; a nil logger means
// slog.Default().
func New(dir string, client *http.Client, log *slog.Logger) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("http cache: no directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("http cache: %w", err)
	}
	if client == nil {
		client = &http.Client{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Cache{http: client, dir: dir, log: log}, nil
}

// StatusError is an unexpected HTTP response status.
type StatusError struct {
	URL  string
	Code int
}

// Error names the URL and the status.
func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// IsNotFound reports whether err is a 404 or 410 response.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone)
}

// cacheMeta is the validator data stored ahead of a cached body.
type cacheMeta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Get returns the body at url, at most limit bytes. A cached copy is
// revalidated with If-None-Match and If-Modified-Since and reused on 304
// Not Modified. The caller must verify the content: the cache only saves
// transfers. A status other than 200 (or 304 with a copy) is a
// *StatusError.
func (c *Cache) Get(ctx context.Context, url string, limit int64) ([]byte, error) {
	return c.bodies.Do(ctx, url, func(ctx context.Context) ([]byte, error) {
		path := filepath.Join(c.dir, urlKey(url))
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
			logctx.From(ctx, c.log).DebugContext(ctx, "http cache: not modified", "url", url)
			return cached, nil
		case resp.StatusCode != http.StatusOK:
			return nil, &StatusError{URL: url, Code: resp.StatusCode}
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		if int64(len(body)) > limit {
			return nil, fmt.Errorf("GET %s: larger than %d bytes", url, limit)
		}
		logctx.From(ctx, c.log).DebugContext(ctx, "http cache: fetched", "url", url, "bytes", len(body))
		meta = cacheMeta{URL: url, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
		if err := writeCacheEntry(path, meta, body); err != nil {
			logctx.From(ctx, c.log).WarnContext(ctx, "http cache: cannot cache", "url", url, "err", err)
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
	return WriteFileAtomic(path, append(append(head, '\n'), body...))
}

// WriteFileAtomic writes data to a temporary file beside path and renames
// it into place, so that readers never see a torn file.
func WriteFileAtomic(path string, data []byte) error {
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
