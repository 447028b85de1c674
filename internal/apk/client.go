package apk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/patchloop/patchloop/internal/httpcache"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/parsedcache"
)

// Options configure a Client.
type Options struct {
	// CacheDir holds indexes and packages; required. Clients may share it.
	CacheDir string
	// HTTPClient makes the requests; nil means a default client. Retries
	// belong in its transport.
	HTTPClient *http.Client
	// Logger receives progress at debug level and warnings; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Client fetches and verifies apk repository data. It is safe for
// concurrent use.
type Client struct {
	http  *http.Client
	cache *httpcache.Cache
	dir   string
	log   *slog.Logger
	files httpcache.Group[string]
	// parsed holds the parsed indexes, by SHA256 of the verified
	// APKINDEX.tar.gz.
	parsed *parsedcache.Cache
}

// Cache subdirectories: revalidated indexes, verified packages.
const (
	indexCacheDir   = "apk-index"
	packageCacheDir = "apk-packages"
	// maxIndexSize bounds an APKINDEX.tar.gz (Alpine's main is ~1 MiB).
	maxIndexSize = 64 << 20
)

// NewClient returns a client caching under opts.CacheDir.
func NewClient(opts Options) (*Client, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("apk client: no cache directory")
	}
	c := &Client{http: opts.HTTPClient, dir: filepath.Join(opts.CacheDir, packageCacheDir), log: opts.Logger}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("apk client: %w", err)
	}
	cache, err := httpcache.New(filepath.Join(opts.CacheDir, indexCacheDir), c.http, c.log)
	if err != nil {
		return nil, fmt.Errorf("apk client: %w", err)
	}
	c.cache = cache
	c.parsed, err = parsedcache.New(parsedcache.Options{Dir: filepath.Join(opts.CacheDir, parsedDir), Magic: parsedMagic, Indexes: 2, Logger: c.log, Name: "apk"})
	if err != nil {
		return nil, fmt.Errorf("apk client: %w", err)
	}
	return c, nil
}

// Candidate is a package one repository offers.
type Candidate struct {
	*Package
	Source Source
	// Arch is the repository directory it was listed in.
	Arch string
}

// URL is where the package file is.
func (c Candidate) URL() string { return c.Source.PackageURL(c.Arch, c.Package) }

// Index is the packages a list of repositories offers for one
// architecture. It reads the parsed indexes lazily: only the packages
// asked for are decoded.
type Index struct {
	parts []indexPart
	arch  string
	log   *slog.Logger
}

// indexPart is the parsed index of one repository.
type indexPart struct {
	tab *parsedcache.Table
	src Source
}

// Candidates returns every version of the named package, highest first;
// equal versions keep repository order. The slice is the caller's.
func (ix *Index) Candidates(name string) []Candidate { return ix.lookup(byName, name) }

// Providers returns the packages that provide name ("so:libz.so.1",
// "cmd:sh", or a package name through p:), highest version first.
func (ix *Index) Providers(name string) []Candidate { return ix.lookup(byProvides, name) }

// lookup decodes the records under name in one key index of every part.
// A table that cannot be read as it was checked (its file changed on disk
// since, or a bug) contributes nothing, with a warning.
func (ix *Index) lookup(which int, name string) []Candidate {
	var out []Candidate
	for _, part := range ix.parts {
		recs, err := part.tab.Lookup(which, name)
		for _, b := range recs {
			var r ospkg.ApkRecord
			var p *Package
			if r, err = decodeRecord(b); err == nil {
				p, err = packageFromRecord(r)
			}
			if err != nil {
				break
			}
			out = append(out, Candidate{Package: p, Source: part.src, Arch: ix.arch})
		}
		if err != nil {
			ix.log.Warn("apk: parsed index unreadable; packages of this name left out", "url", part.src.IndexURL(ix.arch), "name", name, "err", err)
		}
	}
	slices.SortStableFunc(out, func(a, b Candidate) int { return -compareVersions(a.Version, b.Version) })
	return out
}

// LoadIndex fetches every repository's index for arch and verifies it
// with kr. A repository that has no index for arch (404) is skipped with a
// warning, as apk does; any other failure is an error naming the URL.
// Each index is parsed once per SHA256 of its verified APKINDEX.tar.gz:
// later loads, in this process or another sharing the cache, check the
// signature again and reuse the parsed table.
func (c *Client) LoadIndex(ctx context.Context, srcs []Source, arch string, kr *Keyring) (*Index, error) {
	ix := &Index{arch: arch, log: logctx.From(ctx, c.log)}
	for _, s := range srcs {
		u := s.IndexURL(arch)
		data, err := c.cache.Get(ctx, u, maxIndexSize)
		if httpcache.IsNotFound(err) {
			logctx.From(ctx, c.log).WarnContext(ctx, "apk: repository has no index", "url", u)
			continue
		}
		if err != nil {
			return nil, err
		}
		tab, err := c.parsedIndex(ctx, u, data, kr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		ix.parts = append(ix.parts, indexPart{tab: tab, src: s})
	}
	if len(ix.parts) == 0 && len(srcs) > 0 {
		return nil, fmt.Errorf("none of the %d apk repositories has an index for %s", len(srcs), arch)
	}
	return ix, nil
}

// compareVersions orders apk versions; unparsable versions sort lowest.
func compareVersions(a, b string) int {
	c, err := ospkg.Apk.Compare(a, b)
	if err != nil {
		_, ea := ospkg.Apk.Compare(a, a)
		_, eb := ospkg.Apk.Compare(b, b)
		return cmp.Compare(boolInt(ea == nil), boolInt(eb == nil))
	}
	return c
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Fetch downloads a candidate's package file, or finds it in the cache,
// and verifies it against the index (see OpenFile). The caller closes
// the returned file's Closer.
func (c *Client) Fetch(ctx context.Context, cand Candidate) (*File, io.Closer, error) {
	hexSum := cand.Checksum.Hex()
	if hexSum == "" {
		return nil, nil, fmt.Errorf("%s: index checksum %q is not usable", cand.Package, cand.Checksum)
	}
	dest := filepath.Join(c.dir, hexSum+".apk")
	if f, cl, err := openVerified(dest, cand.Checksum); err == nil {
		return f, cl, nil
	}
	_, err := c.files.Do(ctx, hexSum, func(ctx context.Context) (string, error) {
		return dest, c.download(ctx, cand, dest)
	})
	if err != nil {
		return nil, nil, err
	}
	f, cl, err := openVerified(dest, cand.Checksum)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", cand.URL(), err)
	}
	return f, cl, nil
}

// openVerified opens and verifies a package file.
func openVerified(p string, sum Checksum) (*File, io.Closer, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	fi, err := fh.Stat()
	if err != nil {
		_ = fh.Close()
		return nil, nil, err
	}
	f, err := OpenFile(fh, fi.Size(), sum)
	if err != nil {
		_ = fh.Close()
		return nil, nil, err
	}
	return f, fh, nil
}

// maxPackageSize bounds a package whose index gives no size.
const maxPackageSize = 4 << 30

// download fetches a package into dest, verified.
func (c *Client) download(ctx context.Context, cand Candidate, dest string) error {
	u := cand.URL()
	limit := int64(maxPackageSize)
	if cand.Size > 0 {
		limit = cand.Size
	}
	n, err := httpcache.Download(ctx, c.http, u, dest, func(f *os.File, body io.Reader) (int64, error) {
		n, err := io.Copy(f, io.LimitReader(body, limit+1))
		if err == nil {
			switch {
			case n > limit:
				err = fmt.Errorf("%w: more than the index's %d bytes", ErrChecksum, limit)
			case cand.Size > 0 && n != cand.Size:
				err = fmt.Errorf("%w: %d bytes, the index says %d", ErrChecksum, n, cand.Size)
			}
		}
		if err == nil {
			_, err = OpenFile(f, n, cand.Checksum)
		}
		if err != nil {
			return n, fmt.Errorf("GET %s: %w", u, err)
		}
		return n, nil
	})
	if err != nil {
		return err
	}
	logctx.From(ctx, c.log).InfoContext(ctx, "apk: downloaded", "url", u, "bytes", n)
	return nil
}
