package apkrepo

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/testutil/filesrv"
)

// Repository is one apk repository ("v3.22/main") of a server.
type Repository struct {
	// Path is the repository's path under the server ("alpine/v3.22/main").
	Path string
	// Arches default to "x86_64"; each package is published under its own
	// architecture (or every one for "noarch").
	Arches   []string
	Packages []Package
	// Synthetic adds that many SyntheticRecords to each index, after the
	// packages, for benchmarks of large indexes.
	Synthetic int
}

// Config describes the repositories of a server.
type Config struct {
	Repositories []Repository
	// IndexKey signs the indexes; nil means IndexKey().
	IndexKey *Key
	// SHA256 signs indexes with .SIGN.RSA256. instead of .SIGN.RSA.
	SHA256 bool
	// Unsigned publishes indexes without a signature.
	Unsigned bool
}

// Server is a running set of repositories.
type Server struct {
	// URL is the server's base URL; a repository is at URL + "/" + Path.
	URL string

	srv   *httptest.Server
	files *filesrv.Files
	mu    sync.Mutex
	cfg   Config
	built map[string]*Built
}

// New publishes the repositories and serves them until the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := &Server{files: filesrv.New(time.Now().Add(-time.Hour))}
	s.publish(t, cfg)
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	return s
}

// RepoURL returns the URL of a repository path, for etc/apk/repositories.
func (s *Server) RepoURL(path string) string { return s.URL + "/" + path }

// Update changes the configuration and republishes.
func (s *Server) Update(t testing.TB, change func(*Config)) {
	t.Helper()
	s.mu.Lock()
	cfg := s.cfg
	cfg.Repositories = append([]Repository(nil), cfg.Repositories...)
	for i := range cfg.Repositories {
		cfg.Repositories[i].Packages = append([]Package(nil), cfg.Repositories[i].Packages...)
	}
	s.mu.Unlock()
	change(&cfg)
	s.publish(t, cfg)
}

// Built returns a published package by file path ("alpine/v3.22/main/x86_64/foo-1.0-r0.apk").
func (s *Server) Built(path string) *Built {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.built[path]
}

// publish builds every file of cfg.
func (s *Server) publish(t testing.TB, cfg Config) {
	t.Helper()
	files := map[string][]byte{}
	built := map[string]*Built{}
	ikey := cfg.IndexKey
	if ikey == nil {
		ikey = IndexKey()
	}
	for _, r := range cfg.Repositories {
		arches := r.Arches
		if len(arches) == 0 {
			arches = []string{"x86_64"}
		}
		for _, arch := range arches {
			var index strings.Builder
			for _, p := range r.Packages {
				if p.arch() != arch && p.arch() != "noarch" {
					continue
				}
				b := Build(t, p)
				fp := r.Path + "/" + arch + "/" + p.FileName()
				files[fp], built[fp] = b.Data, b
				index.WriteString(b.IndexRecord())
				index.WriteString("\n")
			}
			if r.Synthetic > 0 {
				index.Write(SyntheticRecords(r.Synthetic, arch))
			}
			idx, err := indexArchive(index.String(), r.Path, ikey, cfg.SHA256, cfg.Unsigned)
			if err != nil {
				t.Fatalf("apkrepo: index of %s/%s: %v", r.Path, arch, err)
			}
			files[r.Path+"/"+arch+"/APKINDEX.tar.gz"] = idx
		}
	}
	s.files.Publish(files)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.built = built
}

// indexArchive makes APKINDEX.tar.gz: a signature stream over the index
// stream, as apk index and abuild-sign make it.
func indexArchive(text, desc string, key *Key, sha256Sig, unsigned bool) ([]byte, error) {
	var tb bytes.Buffer
	idx, err := fullTarGzip([][2]string{{"DESCRIPTION", desc}, {"APKINDEX", text}})
	if err != nil {
		return nil, err
	}
	if unsigned {
		return idx, nil
	}
	var sig []byte
	name := ".SIGN.RSA." + key.Name
	if sha256Sig {
		sum := sha256.Sum256(idx)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.Private, crypto.SHA256, sum[:])
		name = ".SIGN.RSA256." + key.Name
	} else {
		sum := sha1.Sum(idx)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.Private, crypto.SHA1, sum[:])
	}
	if err != nil {
		return nil, err
	}
	sigStream, err := cutTarGzip([][2]string{{name, string(sig)}}, 0o644)
	if err != nil {
		return nil, err
	}
	tb.Write(sigStream)
	tb.Write(idx)
	return tb.Bytes(), nil
}

// Tamper replaces a published file's content.
func (s *Server) Tamper(t testing.TB, path string, change func([]byte) []byte) {
	t.Helper()
	if !s.files.Tamper(path, change) {
		t.Fatalf("apkrepo: no file %s", path)
	}
}

// File returns a published file, or nil.
func (s *Server) File(path string) []byte { return s.files.File(path) }

// Requests returns how many requests named path, whatever the answer.
func (s *Server) Requests(path string) int { return s.files.Requests(path) }

// Fetches returns how many requests for path got the full content.
func (s *Server) Fetches(path string) int { return s.files.Fetches(path) }

// ServeHTTP serves the published files with ETags and conditional
// requests, counting every request.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.files.Serve(w, req, strings.TrimPrefix(req.URL.Path, "/"), true)
}

// SwapIndexText returns the index archive with its signature kept and its
// APKINDEX replaced by text: a well-formed index the signature does not
// cover.
func SwapIndexText(t testing.TB, archive []byte, text string) []byte {
	t.Helper()
	r := bytes.NewReader(archive)
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	if _, err := io.Copy(io.Discard, zr); err != nil {
		t.Fatal(err)
	}
	sig := archive[:len(archive)-r.Len()]
	idx, err := fullTarGzip([][2]string{{"DESCRIPTION", "swapped"}, {"APKINDEX", text}})
	if err != nil {
		t.Fatal(err)
	}
	return append(bytes.Clone(sig), idx...)
}
