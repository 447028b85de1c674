package rpmmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/patchloop/patchloop/internal/httpcache"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/rpm"
)

// Options configure a Client.
type Options struct {
	// CacheDir holds metadata and packages; required. Clients may share
	// it.
	CacheDir string
	// HTTPClient makes the requests; nil means a default client.
	HTTPClient *http.Client
	// Logger receives progress at debug level and warnings; nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for signature checks; nil means time.Now.
	Now func() time.Time
}

// Client fetches and verifies rpm-md repository data. It is safe for
// concurrent use.
type Client struct {
	http      *http.Client
	cache     *httpcache.Cache
	dir       string
	parsedDir string
	log       *slog.Logger
	now       func() time.Time
	files     httpcache.Group[string]

	// parsed keeps the packages of recently parsed primary files, by
	// checksum, so that patches of many images from the same
	// repositories parse each primary once.
	parsed   httpcache.Group[[]*Package]
	memoMu   sync.Mutex
	memo     map[string][]*Package
	memoKeys []string
}

// Bounds of the parsed-primary memo.
const (
	memoEntries  = 8
	memoPackages = 200_000
)

// Cache subdirectories and limits.
const (
	metadataCacheDir = "rpmmd-metadata"
	packageCacheDir  = "rpmmd-packages"
	// parsedCacheDir keeps parsed primary files (gob), by checksum:
	// decoding one is ~30 times faster than parsing the XML.
	parsedCacheDir = "rpmmd-parsed"
	// parsedMaxAge is how long an unused parsed primary is kept.
	parsedMaxAge = 14 * 24 * time.Hour
	// maxPrimarySize bounds primary.xml and filelists.xml as stored
	// (compressed), whatever repomd says.
	maxPrimarySize = 1 << 30
	// maxSignatureSize bounds repomd.xml.asc.
	maxSignatureSize = 1 << 20
	// maxPackageSize bounds a package file whose size primary omits.
	maxPackageSize = 8 << 30
)

// NewClient returns a client caching under opts.CacheDir.
func NewClient(opts Options) (*Client, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("rpm-md client: no cache directory")
	}
	c := &Client{http: opts.HTTPClient, dir: filepath.Join(opts.CacheDir, packageCacheDir), parsedDir: filepath.Join(opts.CacheDir, parsedCacheDir), log: opts.Logger, now: opts.Now}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, d := range []string{c.dir, c.parsedDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("rpm-md client: %w", err)
		}
	}
	cache, err := httpcache.New(filepath.Join(opts.CacheDir, metadataCacheDir), c.http, c.log)
	if err != nil {
		return nil, fmt.Errorf("rpm-md client: %w", err)
	}
	c.cache = cache
	return c, nil
}

// Metadata is a repository's verified metadata.
type Metadata struct {
	Repo Repo
	// BaseURL is the root that served it; packages are fetched from it.
	BaseURL string
	Repomd  *Repomd
	// Signed says whether repomd.xml's signature was verified.
	Signed bool
	// Packages are primary's packages, in document order.
	Packages []*Package
	// Modules is the repository's modules.yaml, nil when it has none.
	Modules *Modules
}

// PackageURL returns where a package file is.
func (m *Metadata) PackageURL(p *Package) string {
	base := m.BaseURL
	if p.LocationBase != "" {
		base = p.LocationBase
	}
	return strings.TrimSuffix(base, "/") + "/" + p.Location
}

// Errors of loading a repository; errors of this package wrap them.
var (
	// ErrUnsignedRepomd: repo_gpgcheck is on and repomd.xml has no
	// signature.
	ErrUnsignedRepomd = errors.New("repomd.xml is not signed but repo_gpgcheck=1")
	// ErrNoBaseURL: the repository lists no reachable root.
	ErrNoBaseURL = errors.New("no base URL")
	// ErrTooLarge: a file is larger than this package downloads.
	ErrTooLarge = errors.New("repository file too large")
)

// Load fetches a repository's repomd.xml (checked against the metalink
// when the repository has one, and verified with repomd.xml.asc against
// kr when repo_gpgcheck is on, or when the repository signs it and kr
// holds the key) and its primary.xml (checked against repomd's checksum).
// Base URLs are tried in order, then those of the mirrorlist or metalink;
// the error of each failed one is kept in the returned error.
func (c *Client) Load(ctx context.Context, r Repo, kr *rpm.Keyring) (*Metadata, error) {
	bases := append([]string(nil), r.BaseURLs...)
	var ml *Metalink
	var errs []error
	switch {
	case r.Metalink != "":
		m, err := c.metalink(ctx, r.Metalink)
		if err != nil {
			errs = append(errs, err)
		} else {
			ml = m
			bases = append(bases, m.BaseURLs...)
		}
	case r.Mirrorlist != "":
		data, err := c.cache.Get(ctx, r.Mirrorlist, maxMirrorDoc)
		if err == nil && IsMetalink(data) {
			if ml, err = ParseMetalink(data); err == nil {
				bases = append(bases, ml.BaseURLs...)
			}
		} else if err == nil {
			var list []string
			if list, err = ParseMirrorlist(data); err == nil {
				bases = append(bases, list...)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("mirrorlist %s: %w", r.Mirrorlist, err))
		}
	}
	for _, b := range bases {
		if !httpURL(b) {
			errs = append(errs, fmt.Errorf("baseurl %q: only http(s) repositories can be read", b))
			continue
		}
		md, err := c.loadFrom(ctx, r, b, ml, kr)
		if err == nil {
			return md, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
		logctx.From(ctx, c.log).WarnContext(ctx, "rpm-md: repository root failed", "repo", r.ID, "url", b, "err", err)
	}
	if len(bases) == 0 {
		errs = append(errs, ErrNoBaseURL)
	}
	return nil, fmt.Errorf("repository %s (%s): %w", r.ID, r.File, errors.Join(errs...))
}

// metalink fetches and parses a metalink document.
func (c *Client) metalink(ctx context.Context, u string) (*Metalink, error) {
	data, err := c.cache.Get(ctx, u, maxMirrorDoc)
	if err != nil {
		return nil, fmt.Errorf("metalink: %w", err)
	}
	ml, err := ParseMetalink(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return ml, nil
}

// loadFrom loads the repository from one root.
func (c *Client) loadFrom(ctx context.Context, r Repo, base string, ml *Metalink, kr *rpm.Keyring) (*Metadata, error) {
	base = strings.TrimSuffix(base, "/") + "/"
	mdURL := base + "repodata/repomd.xml"
	data, err := c.cache.Get(ctx, mdURL, maxRepomdSize)
	if err != nil {
		return nil, err
	}
	if ml != nil {
		if err := ml.Verify(data); err != nil {
			return nil, fmt.Errorf("%s: %w", mdURL, err)
		}
	}
	signed, err := c.checkRepomdSignature(ctx, r, mdURL, data, kr)
	if err != nil {
		return nil, err
	}
	rm, err := ParseRepomd(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mdURL, err)
	}
	md := &Metadata{Repo: r, BaseURL: base, Repomd: rm, Signed: signed}
	if err := c.loadPrimary(ctx, md); err != nil {
		return nil, err
	}
	if err := c.loadModules(ctx, md); err != nil {
		return nil, err
	}
	logctx.From(ctx, c.log).DebugContext(ctx, "rpm-md: loaded", "repo", r.ID, "url", base, "packages", len(md.Packages), "signed", signed)
	return md, nil
}

// checkRepomdSignature verifies repomd.xml.asc. With repo_gpgcheck a
// missing or failing signature is an error. Without it a signature is
// still checked when kr holds its key: a signature that fails with a
// trusted key means tampering; one by an unknown key is ignored, as dnf
// ignores the signature then.
func (c *Client) checkRepomdSignature(ctx context.Context, r Repo, mdURL string, data []byte, kr *rpm.Keyring) (bool, error) {
	sig, err := c.cache.Get(ctx, mdURL+".asc", maxSignatureSize)
	if httpcache.IsNotFound(err) {
		if r.RepoGPGCheck {
			return false, fmt.Errorf("%s: %w", mdURL, ErrUnsignedRepomd)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	verr := kr.VerifyDetached(mdURL, data, sig, c.now())
	if verr == nil {
		return true, nil
	}
	if !r.RepoGPGCheck && errors.Is(verr, rpm.ErrUntrustedKey) {
		logctx.From(ctx, c.log).DebugContext(ctx, "rpm-md: repomd.xml signed by an unknown key; repo_gpgcheck is off", "url", mdURL, "err", verr)
		return false, nil
	}
	return false, verr
}

// loadPrimary sets md.Packages from primary.xml: copies of a memoized
// parse when repomd names a primary (by checksum) parsed before, else
// fetched, checked and parsed.
func (c *Client) loadPrimary(ctx context.Context, md *Metadata) error {
	df := md.Repomd.Data["primary"]
	key := df.Checksum.String()
	c.memoMu.Lock()
	pkgs, ok := c.memo[key]
	c.memoMu.Unlock()
	if !ok {
		var err error
		pkgs, err = c.parsed.Do(ctx, key, func(ctx context.Context) ([]*Package, error) {
			if pkgs, ok := c.readParsed(df.Checksum); ok {
				c.remember(key, pkgs)
				return pkgs, nil
			}
			pkgs, err := c.fetchPrimary(ctx, md.BaseURL, df)
			if err == nil {
				c.remember(key, pkgs)
				c.writeParsed(ctx, df.Checksum, pkgs)
			}
			return pkgs, err
		})
		if err != nil {
			return err
		}
	}
	// Each caller gets its own Package values (LoadFilelists replaces
	// their Files); the slices inside are shared and never modified.
	md.Packages = make([]*Package, len(pkgs))
	vals := make([]Package, len(pkgs))
	for i, p := range pkgs {
		vals[i] = *p
		md.Packages[i] = &vals[i]
	}
	return nil
}

// remember memoizes a parse, dropping the oldest ones beyond the bounds.
func (c *Client) remember(key string, pkgs []*Package) {
	c.memoMu.Lock()
	defer c.memoMu.Unlock()
	if c.memo == nil {
		c.memo = map[string][]*Package{}
	}
	if _, ok := c.memo[key]; ok || len(pkgs) > memoPackages || strings.HasPrefix(key, "sha1:") {
		return // SHA-1 names content too weakly to share it.
	}
	c.memo[key] = pkgs
	c.memoKeys = append(c.memoKeys, key)
	total := 0
	for _, k := range c.memoKeys {
		total += len(c.memo[k])
	}
	for len(c.memoKeys) > memoEntries || total > memoPackages {
		total -= len(c.memo[c.memoKeys[0]])
		delete(c.memo, c.memoKeys[0])
		c.memoKeys = c.memoKeys[1:]
	}
}

// parsedPath names the parsed copy of a primary; "" for checksums too
// weak to name content by.
func (c *Client) parsedPath(sum Checksum) string {
	if sum.Type == "sha1" {
		return ""
	}
	return filepath.Join(c.parsedDir, "primary-v1-"+sum.Type+"-"+sum.Hex+".gob")
}

// readParsed returns the parsed copy of a primary, when the cache has a
// readable one (touching it, so that pruning keeps it).
func (c *Client) readParsed(sum Checksum) ([]*Package, bool) {
	p := c.parsedPath(sum)
	if p == "" {
		return nil, false
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var pkgs []*Package
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&pkgs); err != nil {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now)
	return pkgs, true
}

// writeParsed stores the parsed copy of a primary and prunes copies
// unused for parsedMaxAge. Failures only cost a later parse.
func (c *Client) writeParsed(ctx context.Context, sum Checksum, pkgs []*Package) {
	p := c.parsedPath(sum)
	if p == "" {
		return
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(pkgs); err != nil {
		logctx.From(ctx, c.log).WarnContext(ctx, "rpm-md: cannot encode parsed primary", "err", err)
		return
	}
	if err := httpcache.WriteFileAtomic(p, buf.Bytes()); err != nil {
		logctx.From(ctx, c.log).WarnContext(ctx, "rpm-md: cannot cache parsed primary", "err", err)
		return
	}
	entries, _ := os.ReadDir(c.parsedDir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > parsedMaxAge {
			_ = os.Remove(filepath.Join(c.parsedDir, e.Name()))
		}
	}
}

// openData fetches the repodata file df names at u (through the cache,
// at most limit bytes, or df's size when smaller), checks it against
// repomd's checksum and returns it decompressed. Errors name u.
func (c *Client) openData(ctx context.Context, u string, df DataFile, limit int64) (io.ReadCloser, error) {
	if df.Size > 0 && df.Size < limit {
		limit = df.Size
	}
	data, err := c.cache.Get(ctx, u, limit)
	if err != nil {
		return nil, err
	}
	if err := df.Checksum.Verify(data); err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	zr, err := rpm.Decompress(compressorOf(df.Location), bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return zr, nil
}

// fetchPrimary fetches, checks and parses primary.xml.
func (c *Client) fetchPrimary(ctx context.Context, base string, df DataFile) ([]*Package, error) {
	u := base + df.Location
	zr, err := c.openData(ctx, u, df, maxPrimarySize)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var rd io.Reader = zr
	var oh interface {
		io.Writer
		Sum([]byte) []byte
	}
	if df.OpenChecksum.Hex != "" {
		h, err := df.OpenChecksum.Hash()
		if err == nil {
			oh = h
			rd = io.TeeReader(zr, h)
		}
	}
	var pkgs []*Package
	err = ParsePrimary(rd, func(p *Package) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		pkgs = append(pkgs, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if oh != nil {
		if _, err := io.Copy(io.Discard, rd); err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		if got := hex.EncodeToString(oh.Sum(nil)); got != df.OpenChecksum.Hex {
			return nil, fmt.Errorf("%s: %w: uncompressed %s is %s, repomd says %s", u, ErrChecksum, df.OpenChecksum.Type, got, df.OpenChecksum.Hex)
		}
	}
	return pkgs, nil
}

// compressorOf names the compressor of a metadata file by its suffix.
func compressorOf(loc string) string {
	switch {
	case strings.HasSuffix(loc, ".gz"):
		return "gzip"
	case strings.HasSuffix(loc, ".xz"):
		return "xz"
	case strings.HasSuffix(loc, ".zst"):
		return "zstd"
	case strings.HasSuffix(loc, ".bz2"):
		return "bzip2"
	}
	return ""
}

// Fetch downloads a package file into the cache, or finds it there, and
// returns its path. The file's checksum and size are checked against
// primary while it streams (and again when a cached copy is reused); the
// package's own signatures are the caller's to check (rpm.ReadPackage).
func (c *Client) Fetch(ctx context.Context, md *Metadata, p *Package) (string, error) {
	if p.Size > maxPackageSize || p.Size < 0 {
		return "", fmt.Errorf("%w: %s (%s): primary says %d bytes; a package may have at most %d", ErrTooLarge, p.Location, p, p.Size, int64(maxPackageSize))
	}
	dest := filepath.Join(c.dir, p.Checksum.Type+"-"+p.Checksum.Hex+".rpm")
	if err := verifyFile(dest, p); err == nil {
		return dest, nil
	}
	_, err := c.files.Do(ctx, dest, func(ctx context.Context) (string, error) {
		return dest, c.download(ctx, md, p, dest)
	})
	if err != nil {
		return "", err
	}
	return dest, nil
}

// verifyFile checks a cached package file.
func verifyFile(name string, p *Package) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = copyChecked(io.Discard, f, p)
	return err
}

// copyChecked copies a package file, failing when it is longer than
// primary's size, or when at the end its size or checksum differ.
func copyChecked(w io.Writer, r io.Reader, p *Package) (int64, error) {
	h, err := p.Checksum.Hash()
	if err != nil {
		return 0, err
	}
	limit := int64(maxPackageSize)
	if p.Size > 0 {
		limit = min(p.Size, limit)
	}
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, limit+1))
	if err != nil {
		return n, err
	}
	if n > limit || (p.Size > 0 && n != p.Size) {
		return n, fmt.Errorf("%w: %s is %d bytes, primary says %d", ErrChecksum, p.Location, n, p.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.Checksum.Hex {
		return n, fmt.Errorf("%w: %s %s is %s, primary says %s", ErrChecksum, p.Location, p.Checksum.Type, got, p.Checksum.Hex)
	}
	return n, nil
}

// download fetches a package into dest, verified.
func (c *Client) download(ctx context.Context, md *Metadata, p *Package, dest string) error {
	u := md.PackageURL(p)
	n, err := httpcache.Download(ctx, c.http, u, dest, func(f *os.File, body io.Reader) (int64, error) {
		n, err := copyChecked(f, body, p)
		if err != nil {
			return n, fmt.Errorf("GET %s (%s): %w", u, p, err)
		}
		return n, nil
	})
	if err != nil {
		return err
	}
	logctx.From(ctx, c.log).InfoContext(ctx, "rpm-md: downloaded", "url", u, "bytes", n)
	return nil
}
