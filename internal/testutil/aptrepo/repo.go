// Package aptrepo serves real, signed APT repositories on loopback for
// tests: .deb files built with internal/deb, Packages indexes in three
// compressions, Release, Release.gpg and InRelease signed with a generated
// OpenPGP key, over an httptest.Server that honours ETag and
// If-Modified-Since and counts requests. Knobs and Tamper produce the
// broken repositories negative tests need.
package aptrepo

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/testutil/filesrv"
)

// Package is a binary package to publish.
type Package struct {
	Name    string
	Version string
	// Arch defaults to "amd64".
	Arch string
	// Source names the source package, when it differs from Name.
	Source string
	// Depends is written to the control file as is.
	Depends string
	// Component defaults to "main".
	Component string
	// Files is the content of the package; empty gives a package holding
	// only its copyright file.
	Files []deb.File
	// Extra control fields, appended in order.
	Extra []deb.Field
}

// Suite is a distribution under dists/.
type Suite struct {
	// Name is the directory under dists/ and the Suite field.
	Name string
	// Codename defaults to Name.
	Codename string
	// Components default to those of its packages, or "main".
	Components []string
	// Architectures default to "amd64".
	Architectures []string
	Packages      []Package
	// Synthetic adds that many SyntheticStanzas to the main component's
	// index of every architecture, after Packages, for benchmarks of
	// realistic index sizes.
	Synthetic int
}

// Config describes a repository.
type Config struct {
	Suites []Suite
	// Key signs the Release files; nil means a fresh valid key.
	Key *Key
	// Date is the Release Date; zero means now.
	Date time.Time
	// ValidUntil, when set, is written as Valid-Until.
	ValidUntil time.Time
	// NoInRelease publishes only Release and Release.gpg.
	NoInRelease bool
	// IndexFormats are the Packages variants to publish and list; nil
	// means uncompressed, gz and xz.
	IndexFormats []compression.Format
	// NoETag stops the server sending ETags, so clients must revalidate
	// with If-Modified-Since.
	NoETag bool
}

// Repo is a running repository.
type Repo struct {
	// URL is the repository base URI, to use in a sources.list entry.
	URL string
	// Key is the signing key.
	Key *Key
	// Keyring is the public key as a binary keyring; KeyringPath is a
	// file holding it.
	Keyring     []byte
	KeyringPath string

	srv *httptest.Server

	files *filesrv.Files // by path relative to URL

	mu  sync.Mutex
	cfg Config
}

// New builds the repository described by cfg and serves it until the test
// ends.
func New(t testing.TB, cfg Config) *Repo {
	t.Helper()
	if cfg.Key == nil {
		cfg.Key = NewKey(t, KeyOptions{})
	}
	r := &Repo{
		Key:   cfg.Key,
		files: filesrv.New(time.Now().Add(-24 * time.Hour)),
	}
	r.Keyring = cfg.Key.PublicKeyring(t)
	r.KeyringPath = filepath.Join(t.TempDir(), "archive-keyring.gpg")
	if err := os.WriteFile(r.KeyringPath, r.Keyring, 0o644); err != nil {
		t.Fatal(err)
	}
	r.publish(t, cfg)
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	r.URL = r.srv.URL + "/debian"
	return r
}

// Update changes the configuration and republishes every file; files
// whose content is unchanged keep their Last-Modified time.
func (r *Repo) Update(t testing.TB, change func(*Config)) {
	t.Helper()
	r.mu.Lock()
	cfg := r.cfg
	cfg.Suites = cloneSuites(cfg.Suites)
	r.mu.Unlock()
	change(&cfg)
	if cfg.Key == nil {
		cfg.Key = r.Key
	}
	r.publish(t, cfg)
}

func cloneSuites(in []Suite) []Suite {
	out := make([]Suite, len(in))
	for i, s := range in {
		s.Packages = append([]Package(nil), s.Packages...)
		out[i] = s
	}
	return out
}

// Tamper replaces the content of a published file (a path relative to
// URL, such as "pool/main/h/hello/hello_1.0_amd64.deb") after indexing,
// so that it no longer matches what the signed metadata says.
func (r *Repo) Tamper(t testing.TB, path string, change func([]byte) []byte) {
	t.Helper()
	if !r.files.Tamper(path, change) {
		t.Fatalf("aptrepo: no file %s", path)
	}
}

// Remove stops serving a published file.
func (r *Repo) Remove(t testing.TB, path string) {
	t.Helper()
	if !r.files.Remove(path) {
		t.Fatalf("aptrepo: no file %s", path)
	}
}

// File returns the content of a published file, or nil.
func (r *Repo) File(path string) []byte { return r.files.File(path) }

// Requests returns how many requests named path (relative to URL) so far,
// whatever the answer.
func (r *Repo) Requests(path string) int { return r.files.Requests(path) }

// Fetches returns how many requests for path were answered with the full
// content (200 OK), as opposed to 304 Not Modified or an error.
func (r *Repo) Fetches(path string) int { return r.files.Fetches(path) }

// PoolPath returns where a package is published, relative to URL.
func PoolPath(p Package) string {
	p = withDefaults(p)
	source := p.Source
	if source == "" {
		source = p.Name
	}
	prefix := source[:1]
	if len(source) > 3 && source[:3] == "lib" {
		prefix = source[:4]
	}
	return "pool/" + p.Component + "/" + prefix + "/" + source + "/" + p.Name + "_" + versionWithoutEpoch(p.Version) + "_" + p.Arch + ".deb"
}

func versionWithoutEpoch(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] == ':' {
			return v[i+1:]
		}
	}
	return v
}

func withDefaults(p Package) Package {
	if p.Arch == "" {
		p.Arch = "amd64"
	}
	if p.Component == "" {
		p.Component = "main"
	}
	return p
}
