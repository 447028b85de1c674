// Package progress shows how far long transfers are (the vulnerability
// database, layers read, packages downloaded, blobs pushed) as one line on
// a terminal, rewritten in place with \r. When the output is not a
// terminal, or the user asked for quiet, it writes nothing at all.
package progress

import (
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
)

// Writer draws progress lines on one output. It is safe for concurrent
// use: transfers running at once take turns on the line.
type Writer struct {
	// Min is the smallest transfer Transport shows (default 64 KiB):
	// tokens, manifests and small indexes pass silently.
	Min int64

	w    io.Writer
	on   bool
	mu   sync.Mutex
	last string // the line on screen, "" when none
}

// New returns a Writer drawing on w when terminal is true; with terminal
// false (a pipe, a file, -q) every method is a no-op.
func New(w io.Writer, terminal bool) *Writer {
	return &Writer{w: w, on: terminal && w != nil, Min: 64 << 10}
}

// Enabled reports whether p draws anything.
func (p *Writer) Enabled() bool { return p != nil && p.on }

// Reader returns r counting what is read through it under label, with
// total bytes expected (negative when unknown). Closing it (or reading to
// io.EOF) ends the line.
func (p *Writer) Reader(r io.Reader, label string, total int64) io.ReadCloser {
	c, _ := r.(io.Closer)
	if !p.Enabled() {
		if c != nil {
			return readCloser{r, c}
		}
		return io.NopCloser(r)
	}
	return &counter{p: p, r: r, c: c, label: label, total: total}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// counter is one transfer.
type counter struct {
	p     *Writer
	r     io.Reader
	c     io.Closer
	label string
	total int64
	n     int64
	done  bool
}

func (c *counter) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if n > 0 {
		c.p.draw(c.line())
	}
	if err == io.EOF {
		c.finish()
	}
	return n, err
}

func (c *counter) Close() error {
	c.finish()
	if c.c != nil {
		return c.c.Close()
	}
	return nil
}

func (c *counter) finish() {
	if c.done {
		return
	}
	c.done = true
	c.p.end(c.line())
}

func (c *counter) line() string {
	if c.total <= 0 {
		return fmt.Sprintf("%s %s", c.label, Bytes(c.n))
	}
	return fmt.Sprintf("%s %s / %s (%d%%)", c.label, Bytes(c.n), Bytes(c.total), c.n*100/c.total)
}

// draw replaces the line on screen with s, when it changed.
func (p *Writer) draw(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s == p.last {
		return
	}
	pad := max(0, len(p.last)-len(s))
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", pad))
	p.last = s
}

// end draws s and moves to a new line, leaving s on screen.
func (p *Writer) end(s string) {
	p.draw(s)
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\n")
	p.last = ""
}

// Bytes formats n bytes for people: 512 B, 1.5 KiB, 12.3 MiB, 1.0 GiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

// Transport returns next with progress lines for the bodies of successful
// GET responses ("downloading NAME") and of uploads ("pushing NAME"), NAME
// being the last element of the URL's path (a digest, a package file). It
// returns next itself when p draws nothing.
func (p *Writer) Transport(next http.RoundTripper) http.RoundTripper {
	if !p.Enabled() {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{p: p, next: next}
}

type transport struct {
	p    *Writer
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	name := path.Base(req.URL.Path)
	upload := req.Method == http.MethodPut || req.Method == http.MethodPatch || req.Method == http.MethodPost
	// A streamed blob (PATCH of unknown length) or a large body is shown.
	if req.Body != nil && upload && (req.ContentLength >= t.p.Min || req.ContentLength < 0 && req.Method == http.MethodPatch) {
		req = req.Clone(req.Context())
		req.Body = t.p.Reader(req.Body, "pushing "+short(name), req.ContentLength)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK || resp.ContentLength >= 0 && resp.ContentLength < t.p.Min {
		return resp, err
	}
	resp.Body = t.p.Reader(resp.Body, "downloading "+short(name), resp.ContentLength)
	return resp, nil
}

// short abbreviates a digest to its algorithm and first 12 hex digits.
func short(name string) string {
	if algo, hex, ok := strings.Cut(name, ":"); ok && len(hex) > 12 {
		return algo + ":" + hex[:12]
	}
	return name
}
