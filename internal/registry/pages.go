package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxPages caps how many pages one catalog or tag listing follows
// (see WithMaxPages). With the default page size of 1000 that is ten
// million names; registries that serve smaller pages (Docker Hub serves at
// most 100) still allow a million.
const DefaultMaxPages = 10000

// MaxListingPageSize caps the body of one catalog or tag listing page. A
// page of 1000 tags is tens of KB; registries that ignore the page size and
// send everything at once (with a manifest map, as GCR does) send tens of MB
// for the largest repositories.
const MaxListingPageSize = 128 << 20

// MaxListingNames caps the names (tags or repositories) one listing
// returns: a few hundred MB of memory for discovery at most. The largest
// real repositories have hundreds of thousands of tags.
const MaxListingNames = 5_000_000

// ErrTooManyNames is returned when a listing has more than MaxListingNames
// names.
var ErrTooManyNames = errors.New("listing has more names than the limit")

// ErrPageTooLarge is returned when a listing page is over MaxListingPageSize.
var ErrPageTooLarge = errors.New("listing page over the size limit")

// ErrTooManyPages is returned when a listing has more pages than the cap.
var ErrTooManyPages = errors.New("listing has more pages than the limit")

// ErrRepeatedPage is returned when a registry's Link: rel="next" header
// points at a page already read, which would make the listing loop for ever.
var ErrRepeatedPage = errors.New("registry sent a page already read")

// pager is the part of go-containerregistry's Lister and Catalogger that
// paginate uses: HasNext, Next and the URL of the page after the current one.
type pager[P any] struct {
	hasNext func() bool
	next    func(context.Context) (P, error)
	url     func(P) string // the Link: rel="next" URL of a page ("" on the last)
	items   func(P) []string
}

// listLimits bound one listing.
type listLimits struct {
	pages int // WithMaxPages
	names int // MaxListingNames, except in tests
}

// paginate reads every page of a listing whose first page (at URL first)
// is already loaded, stopping with ErrRepeatedPage when a next link points
// at a page already read, with ErrTooManyPages after lim.pages pages and
// with ErrTooManyNames past lim.names names. what names the listing in
// errors ("tags of host/repo").
func paginate[P any](ctx context.Context, p pager[P], first, what string, lim listLimits) ([]string, error) {
	seen := map[string]bool{first: true}
	var out []string
	pages := 0
	for p.hasNext() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pages == lim.pages {
			return nil, fmt.Errorf("%w: %s: more than %d pages; the registry may be paginating without end (raise the limit with registry.WithMaxPages if the listing is genuine)", ErrTooManyPages, what, lim.pages)
		}
		page, err := p.next(ctx)
		if err != nil {
			return nil, err
		}
		pages++
		if out = append(out, p.items(page)...); len(out) > lim.names {
			return nil, fmt.Errorf("%w: %s: more than %d names", ErrTooManyNames, what, lim.names)
		}
		if u := p.url(page); u != "" {
			if seen[u] {
				return nil, fmt.Errorf("%w: %s: page %d links back to %s; the registry's pagination loops", ErrRepeatedPage, what, pages, u)
			}
			seen[u] = true
		}
	}
	return out, nil
}

// listingTransport caps the bodies of catalog and tag listing responses at
// MaxListingPageSize, so that a registry cannot make a listing decode
// without end.
type listingTransport struct {
	next  http.RoundTripper
	limit int64 // MaxListingPageSize, except in tests
}

// RoundTrip implements http.RoundTripper.
func (t listingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch {
	case isListing(req.URL.Path):
		resp.Body = &cappedBody{rc: resp.Body, left: t.limit, limit: t.limit, url: req.URL.Redacted()}
	case isManifest(req.URL.Path):
		resp.Body = &cappedBody{rc: resp.Body, left: MaxManifestSize, limit: MaxManifestSize, url: req.URL.Redacted(), err: ErrManifestTooLarge}
	}
	return resp, nil
}

// MaxManifestSize caps the manifests and referrers lists read (the OCI
// image spec asks registries to accept 4 MiB manifests; 4096 referrers,
// the most sign reads, fit in 2 MiB). go-containerregistry's own cap is
// 100 MiB, which a hostile registry could make every signature fetch
// read.
const MaxManifestSize = 8 << 20

// ErrManifestTooLarge is wrapped by the read error of a manifest or
// referrers list over MaxManifestSize.
var ErrManifestTooLarge = errors.New("manifest too large")

func isManifest(path string) bool {
	return strings.HasPrefix(path, "/v2/") && (strings.Contains(path, "/manifests/") || strings.Contains(path, "/referrers/"))
}

func isListing(path string) bool {
	return path == "/v2/_catalog" || strings.HasPrefix(path, "/v2/") && strings.HasSuffix(path, "/tags/list")
}

// cappedBody fails a read that would go past left bytes.
type cappedBody struct {
	rc          io.ReadCloser
	left, limit int64
	url         string
	err         error // ErrPageTooLarge when nil
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the cap from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			e := b.err
			if e == nil {
				e = ErrPageTooLarge
			}
			return 0, fmt.Errorf("%w: %s: more than %d bytes", e, b.url, b.limit)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
