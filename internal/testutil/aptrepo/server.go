package aptrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// ServeHTTP serves the published files under /debian/, with conditional
// request support from http.ServeContent, and counts every request.
func (r *Repo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path, ok := strings.CutPrefix(req.URL.Path, "/debian/")
	r.mu.Lock()
	r.requests[path]++
	f, found := r.files[path]
	noETag := r.cfg.NoETag
	r.mu.Unlock()
	if !ok || !found {
		http.NotFound(w, req)
		return
	}
	if !noETag {
		sum := sha256.Sum256(f.data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	http.ServeContent(rec, req, path, f.modTime, bytes.NewReader(f.data))
	if rec.status == http.StatusOK {
		r.mu.Lock()
		r.fetches[path]++
		r.mu.Unlock()
	}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status and passes it on.
func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
