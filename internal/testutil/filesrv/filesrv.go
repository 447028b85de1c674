// Package filesrv serves an in-memory set of files over HTTP, as the test
// package repositories (aptrepo, apkrepo) publish them: ETags and
// Last-Modified times with conditional requests through http.ServeContent,
// every request counted, and files that can be swapped, tampered with or
// removed while the server runs.
package filesrv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Files is a set of served files. The zero value is not usable: use New.
type Files struct {
	mu       sync.Mutex
	files    map[string]*file // by path without a leading '/'
	requests map[string]int
	fetches  map[string]int
	clock    time.Time // the last Last-Modified time handed out
}

type file struct {
	data    []byte
	modTime time.Time
}

// New returns an empty set whose first Last-Modified time follows start.
func New(start time.Time) *Files {
	return &Files{
		files:    map[string]*file{},
		requests: map[string]int{},
		fetches:  map[string]int{},
		clock:    start.Truncate(time.Second),
	}
}

// Publish replaces every file with files. A file whose content is
// unchanged keeps its Last-Modified time; each changed or new one gets a
// later time than any handed out before.
func (f *Files) Publish(files map[string][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := make(map[string]*file, len(files))
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if old, ok := f.files[p]; ok && bytes.Equal(old.data, files[p]) {
			next[p] = old
			continue
		}
		f.clock = f.clock.Add(time.Second)
		next[p] = &file{data: files[p], modTime: f.clock}
	}
	f.files = next
}

// Tamper replaces a file's content by change(copy of the content), with a
// new Last-Modified time. It reports false when there is no such file.
func (f *Files) Tamper(path string, change func([]byte) []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.files[path]
	if !ok {
		return false
	}
	f.clock = f.clock.Add(time.Second)
	f.files[path] = &file{data: change(bytes.Clone(old.data)), modTime: f.clock}
	return true
}

// Remove stops serving a file. It reports false when there is no such file.
func (f *Files) Remove(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.files[path]; !ok {
		return false
	}
	delete(f.files, path)
	return true
}

// File returns a file's content, or nil.
func (f *Files) File(path string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.files[path]; ok {
		return fl.data
	}
	return nil
}

// Requests returns how many requests named path, whatever the answer.
func (f *Files) Requests(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

// Fetches returns how many requests for path were answered with the full
// content (200 OK), as opposed to 304 Not Modified or an error.
func (f *Files) Fetches(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches[path]
}

// Serve answers req with the file at path (no leading '/'), counting the
// request; etag false leaves the ETag out, so clients must revalidate by
// date alone.
func (f *Files) Serve(w http.ResponseWriter, req *http.Request, path string, etag bool) {
	f.mu.Lock()
	f.requests[path]++
	fl, ok := f.files[path]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	if etag {
		sum := sha256.Sum256(fl.data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	http.ServeContent(rec, req, path, fl.modTime, bytes.NewReader(fl.data))
	if rec.status == http.StatusOK {
		f.mu.Lock()
		f.fetches[path]++
		f.mu.Unlock()
	}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status and passes it on.
func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
