package aptrepo

import (
	"net/http"
	"strings"
)

// ServeHTTP serves the published files under /debian/, with conditional
// request support from http.ServeContent, and counts every request.
func (r *Repo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path, ok := strings.CutPrefix(req.URL.Path, "/debian/")
	if !ok {
		http.NotFound(w, req)
		return
	}
	r.mu.Lock()
	noETag := r.cfg.NoETag
	r.mu.Unlock()
	r.files.Serve(w, req, path, !noETag)
}
