// Package client is the Patchloop API client: an api.Service that runs
// every call on a Patchloop service over HTTP, so the CLI drives a remote
// service exactly as it would drive the engine in-process.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchloop/patchloop/internal/api"
)

// Defaults and the environment variables that override them.
const (
	// DefaultServer is the service's address when PATCHLOOP_SERVER is unset.
	DefaultServer = "http://127.0.0.1:8080"
	// DefaultDataDir is where `patchloop serve` keeps its data, token included.
	DefaultDataDir = "patchloop-data"
	// EnvServer names the service's base URL.
	EnvServer = "PATCHLOOP_SERVER"
	// EnvToken holds the API token; it wins over the data directory's file.
	EnvToken = "PATCHLOOP_TOKEN"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// Client calls a Patchloop service. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

var _ api.Service = (*Client)(nil)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client requests go through (default: one
// with its own copy of http.DefaultTransport and no overall timeout, as
// the request contexts bound every call).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// New returns a client of the service at baseURL (http://host:port; a bare
// host:port means http) presenting token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("service address %q: want http://host:port or https://host:port (PATCHLOOP_SERVER)", baseURL)
	}
	c := &Client{base: u, token: token, hc: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// FromEnv returns a client of the service at $PATCHLOOP_SERVER (default
// DefaultServer) with the token in $PATCHLOOP_TOKEN or, when that is
// unset, in <dataDir>/token, the file `patchloop serve` writes.
func FromEnv(dataDir string, opts ...Option) (*Client, error) {
	base := os.Getenv(EnvServer)
	if base == "" {
		base = DefaultServer
	}
	token := strings.TrimSpace(os.Getenv(EnvToken))
	if token == "" {
		if dataDir == "" {
			dataDir = DefaultDataDir
		}
		path := filepath.Join(dataDir, api.TokenFile)
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("no API token: %s does not exist and %s is not set; start the service with `patchloop serve --data-dir %s` (it writes the token there), or set %s", path, EnvToken, dataDir, EnvToken)
		case err != nil:
			return nil, fmt.Errorf("read the API token: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	return New(base, token, opts...)
}

// BaseURL returns the service address the client calls.
func (c *Client) BaseURL() string { return c.base.String() }

// Health checks that the service answers; it needs no token.
func (c *Client) Health(ctx context.Context) error {
	var h api.Health
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, &h)
}

// do sends one request with a JSON body (in, unless nil) and decodes a JSON
// response into out (unless nil; a *string receives the body as text).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := *c.base
	u.Path += path
	u.RawPath = ""
	if p, err := url.PathUnescape(u.Path); err == nil && p != u.Path {
		u.RawPath = u.Path
		u.Path = p
	}
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return responseError(resp)
	}
	switch v := out.(type) {
	case nil:
		return nil
	case *string:
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("%s %s: read response: %w", method, path, err)
		}
		*v = string(data)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// escape makes one path segment of a registry, type or run ID.
func escape(s string) string { return url.PathEscape(s) }
