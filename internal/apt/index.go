package apt

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/httpcache"
	"github.com/patchloop/patchloop/internal/logctx"
)

// Candidate is a package offered by one suite of one repository.
type Candidate struct {
	Package
	// URI, Suite and Component say where the package is offered.
	URI, Suite, Component string
}

// URL is where the .deb is downloaded from.
func (c Candidate) URL() string {
	return strings.TrimSuffix(c.URI, "/") + "/" + c.Filename
}

// Index is the set of packages offered by a list of sources for one
// architecture.
type Index struct {
	byName map[string][]Candidate
}

// Candidates returns every version of the named package across all
// sources, highest version first; equal versions keep source order. The
// slice is the caller's to modify.
func (ix *Index) Candidates(name string) []Candidate {
	return slices.Clone(ix.byName[name])
}

// LoadIndex fetches and verifies the Packages indexes of every source for
// arch (a dpkg architecture such as "amd64"; packages of architecture
// "all" are included as the archive lists them). Sources restricted to
// other architectures are skipped, and so are components or
// architectures the signed Release does not provide, with a warning, as
// apt does.
func (c *Client) LoadIndex(ctx context.Context, sources []Source, arch string) (*Index, error) {
	ix := &Index{byName: map[string][]Candidate{}}
	for _, src := range sources {
		if len(src.Architectures) > 0 && !slices.Contains(src.Architectures, arch) {
			continue
		}
		rel, err := c.FetchRelease(ctx, src)
		if err != nil {
			return nil, err
		}
		if len(rel.Architectures) > 0 && !slices.Contains(rel.Architectures, arch) {
			logctx.From(ctx, c.log).WarnContext(ctx, "apt: suite does not provide architecture", "uri", src.URI, "suite", src.Suite, "arch", arch)
			continue
		}
		for _, comp := range src.Components {
			pkgs, err := c.packages(ctx, src, rel, comp, arch)
			if err != nil {
				return nil, err
			}
			for _, p := range pkgs {
				ix.byName[p.Name] = append(ix.byName[p.Name], Candidate{Package: p, URI: src.URI, Suite: src.Suite, Component: comp})
			}
		}
	}
	for _, cands := range ix.byName {
		slices.SortStableFunc(cands, func(a, b Candidate) int { return -compareLenient(a.Version, b.Version) })
	}
	return ix, nil
}

// indexFormats is the order in which Packages variants are tried.
var indexFormats = []compression.Format{compression.XZ, compression.Gzip, compression.None}

// packages returns the parsed Packages index of one component and
// architecture, or nothing (with a warning) when the Release lists none.
// Variants are tried in the order xz, gz, uncompressed; a variant that is
// listed but missing on the server falls through to the next, while one
// that fails verification is an error.
func (c *Client) packages(ctx context.Context, src Source, rel *Release, comp, arch string) ([]Package, error) {
	base := comp + "/binary-" + arch + "/Packages"
	var lastErr error
	for _, f := range indexFormats {
		entry, ok := rel.Files[base+f.Ext()]
		if !ok {
			continue
		}
		url := suiteURL(src) + "/" + entry.Path
		pkgs, err := c.parsedPackages(ctx, url, entry, f)
		if httpcache.IsNotFound(err) {
			lastErr = err
			continue
		}
		return pkgs, err
	}
	if lastErr != nil {
		return nil, fmt.Errorf("%s %s: %s listed in Release but not served: %w", src.URI, src.Suite, base, lastErr)
	}
	logctx.From(ctx, c.log).WarnContext(ctx, "apt: suite does not provide index", "uri", src.URI, "suite", src.Suite, "index", base)
	return nil, nil
}

// parsedPackages returns the packages of a verified index file, reusing
// the last parse of url while its SHA256 is unchanged.
func (c *Client) parsedPackages(ctx context.Context, url string, entry IndexFile, f compression.Format) ([]Package, error) {
	c.mu.Lock()
	p, ok := c.parsed[url]
	c.mu.Unlock()
	if ok && p.sha256 == entry.SHA256 {
		return p.pkgs, nil
	}
	pkgs, err := c.indexes.Do(ctx, entry.SHA256, func(ctx context.Context) ([]Package, error) {
		path, err := c.fetchVerified(ctx, url, entry.Size, entry.SHA256)
		if err != nil {
			return nil, err
		}
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", url, err)
		}
		defer fh.Close()
		zr, err := compression.NewReader(fh, f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", url, err)
		}
		defer zr.Close()
		pkgs, err := ParsePackages(ctx, zr)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", url, err)
		}
		logctx.From(ctx, c.log).DebugContext(ctx, "apt: parsed index", "url", url, "packages", len(pkgs))
		return pkgs, nil
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.parsed[url] = parsedIndex{sha256: entry.SHA256, pkgs: pkgs}
	c.mu.Unlock()
	return pkgs, nil
}

// FetchDeb returns the path of a verified local copy of the candidate's
// .deb, downloading it unless the cache has it. The file belongs to the
// cache: read it, don't modify or remove it. A download whose size or
// SHA256 differs from the index is deleted and reported with an error
// wrapping ErrHashMismatch.
func (c *Client) FetchDeb(ctx context.Context, cand Candidate) (string, error) {
	path, err := c.fetchVerified(ctx, cand.URL(), cand.Size, cand.SHA256)
	if err != nil {
		return "", fmt.Errorf("fetching package %s %s (%s): %w", cand.Name, cand.Version, cand.Architecture, err)
	}
	return path, nil
}
