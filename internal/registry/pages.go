package registry

import (
	"context"
	"errors"
	"fmt"
)

// DefaultMaxPages caps how many pages one catalog or tag listing follows
// (see WithMaxPages). With the default page size of 1000 that is ten
// million names; registries that serve smaller pages (Docker Hub serves at
// most 100) still allow a million.
const DefaultMaxPages = 10000

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

// paginate reads every page of a listing whose first page (at URL first)
// is already loaded, stopping with ErrRepeatedPage when a next link points
// at a page already read and with ErrTooManyPages after maxPages pages.
// what names the listing in errors ("tags of host/repo").
func paginate[P any](ctx context.Context, p pager[P], first, what string, maxPages int) ([]string, error) {
	seen := map[string]bool{first: true}
	var out []string
	pages := 0
	for p.hasNext() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pages == maxPages {
			return nil, fmt.Errorf("%w: %s: more than %d pages; the registry may be paginating without end (raise the limit with registry.WithMaxPages if the listing is genuine)", ErrTooManyPages, what, maxPages)
		}
		page, err := p.next(ctx)
		if err != nil {
			return nil, err
		}
		pages++
		out = append(out, p.items(page)...)
		if u := p.url(page); u != "" {
			if seen[u] {
				return nil, fmt.Errorf("%w: %s: page %d links back to %s; the registry's pagination loops", ErrRepeatedPage, what, pages, u)
			}
			seen[u] = true
		}
	}
	return out, nil
}
