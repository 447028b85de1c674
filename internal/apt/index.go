package apt

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/httpcache"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/parsedcache"
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
// architecture. It reads the parsed indexes lazily: only the packages
// asked for are decoded.
type Index struct {
	parts []indexPart
	log   *slog.Logger
}

// indexPart is the parsed index of one component of one source.
type indexPart struct {
	tab                   *parsedcache.Table
	uri, suite, component string
}

// Candidates returns every version of the named package across all
// sources, highest version first; equal versions keep source order. The
// slice is the caller's to modify. A parsed index that cannot be read as
// it was checked (its file changed on disk since, or a bug) contributes
// nothing, with a warning.
func (ix *Index) Candidates(name string) []Candidate {
	var out []Candidate
	for _, part := range ix.parts {
		pkgs, err := lookup(part.tab, name)
		if err != nil {
			ix.log.Warn("apt: parsed index unreadable; packages of this name left out", "uri", part.uri, "suite", part.suite, "component", part.component, "package", name, "err", err)
			continue
		}
		for _, p := range pkgs {
			out = append(out, Candidate{Package: p, URI: part.uri, Suite: part.suite, Component: part.component})
		}
	}
	slices.SortStableFunc(out, func(a, b Candidate) int { return -compareLenient(a.Version, b.Version) })
	return out
}

// LoadIndex fetches and verifies the Packages indexes of every source for
// arch (a dpkg architecture such as "amd64"; packages of architecture
// "all" are included as the archive lists them). Sources restricted to
// other architectures are skipped, and so are components or
// architectures the signed Release does not provide, with a warning, as
// apt does. Each index is parsed once per SHA256 the signed Release
// names: later loads, in this process or another sharing the cache,
// reuse the checked parsed form.
func (c *Client) LoadIndex(ctx context.Context, sources []Source, arch string) (*Index, error) {
	ix := &Index{log: logctx.From(ctx, c.log)}
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
			tab, err := c.packages(ctx, src, rel, comp, arch)
			if err != nil {
				return nil, err
			}
			if tab != nil {
				ix.parts = append(ix.parts, indexPart{tab: tab, uri: src.URI, suite: src.Suite, component: comp})
			}
		}
	}
	return ix, nil
}

// indexFormats is the order in which Packages variants are tried. gzip
// comes first: it is about 40% larger than xz but inflates five times
// faster (0.5 s against 2.6 s for bookworm's main index), and the raw
// index is downloaded once per signed digest anyway.
var indexFormats = []compression.Format{compression.Gzip, compression.XZ, compression.None}

// packages returns the parsed Packages index of one component and
// architecture, or nothing (with a warning) when the Release lists none.
// Variants are tried in the order gz, xz, uncompressed; a variant that is
// listed but missing on the server falls through to the next, while one
// that fails verification is an error.
func (c *Client) packages(ctx context.Context, src Source, rel *Release, comp, arch string) (*parsedcache.Table, error) {
	base := comp + "/binary-" + arch + "/Packages"
	var lastErr error
	for _, f := range indexFormats {
		entry, ok := rel.Files[base+f.Ext()]
		if !ok {
			continue
		}
		url := suiteURL(src) + "/" + entry.Path
		tab, err := c.parsedIndex(ctx, url, entry, f)
		if httpcache.IsNotFound(err) {
			lastErr = err
			continue
		}
		return tab, err
	}
	if lastErr != nil {
		return nil, fmt.Errorf("%s %s: %s listed in Release but not served: %w", src.URI, src.Suite, base, lastErr)
	}
	logctx.From(ctx, c.log).WarnContext(ctx, "apt: suite does not provide index", "uri", src.URI, "suite", src.Suite, "index", base)
	return nil, nil
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
