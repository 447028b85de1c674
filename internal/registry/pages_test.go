package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/patchloop/patchloop/internal/registry"
)

// pagingRegistry is a registry API on loopback that serves only listings:
// every page of /v2/<repo>/tags/list and /v2/_catalog holds one name and
// links to the page that next(current) returns ("" for none). It gives up
// linking after 100 pages, so that a client without loop detection ends.
type pagingRegistry struct {
	next     func(path string, page int) string // URL of the next page
	requests atomic.Int32
}

func (p *pagingRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/" {
		w.WriteHeader(http.StatusOK)
		return
	}
	n := p.requests.Add(1)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if link := p.next(r.URL.Path, page); link != "" && n < 100 {
		w.Header().Set("Link", "<"+link+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", "application/json")
	item := fmt.Sprintf("p%d", page)
	var body any
	if r.URL.Path == "/v2/_catalog" {
		body = map[string]any{"repositories": []string{"repo" + item}}
	} else {
		repo := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/"), "/tags/list")
		body = map[string]any{"name": repo, "tags": []string{item}}
	}
	_ = json.NewEncoder(w).Encode(body)
}

func startPaging(t *testing.T, next func(path string, page int) string) (*pagingRegistry, string) {
	t.Helper()
	p := &pagingRegistry{next: next}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.Listener.Addr().String()
}

func TestTagsSelfLinkIsDetected(t *testing.T) {
	// Every page says the next page is the first one again.
	p, host := startPaging(t, func(path string, _ int) string { return path + "?n=1000" })
	c := registry.New()
	repo, err := c.Repository(host + "/team/loop")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Tags(context.Background(), repo)
	if !errors.Is(err, registry.ErrRepeatedPage) {
		t.Fatalf("Tags err = %v, want ErrRepeatedPage", err)
	}
	if !strings.Contains(err.Error(), "team/loop") {
		t.Errorf("error %q does not name the repository", err)
	}
	if n := p.requests.Load(); n != 1 {
		t.Errorf("%d listing requests, want 1 (the first page links to itself)", n)
	}
}

func TestTagsLoopOverTwoPagesIsDetected(t *testing.T) {
	// Page 0 → page 1 → page 0 …
	p, host := startPaging(t, func(path string, page int) string {
		return fmt.Sprintf("%s?page=%d", path, 1-page)
	})
	c := registry.New()
	repo, _ := c.Repository(host + "/loop")
	if _, err := c.Tags(context.Background(), repo); !errors.Is(err, registry.ErrRepeatedPage) {
		t.Fatalf("Tags err = %v, want ErrRepeatedPage", err)
	}
	if n := p.requests.Load(); n != 3 {
		t.Errorf("%d listing requests, want 3 (first page, page 1, page 0 again)", n)
	}
}

func TestCatalogSelfLinkIsDetected(t *testing.T) {
	p, host := startPaging(t, func(path string, _ int) string { return path + "?n=1000" })
	c := registry.New()
	reg, _ := c.Registry(host)
	if _, err := c.Catalog(context.Background(), reg); !errors.Is(err, registry.ErrRepeatedPage) {
		t.Fatalf("Catalog err = %v, want ErrRepeatedPage", err)
	}
	if n := p.requests.Load(); n != 1 {
		t.Errorf("%d catalog requests, want 1", n)
	}
}

func TestTagsPageCap(t *testing.T) {
	// Every page links to a new one: only the cap stops the listing.
	p, host := startPaging(t, func(path string, page int) string {
		return fmt.Sprintf("%s?page=%d", path, page+1)
	})
	c := registry.New(registry.WithMaxPages(10))
	repo, _ := c.Repository(host + "/team/endless")
	_, err := c.Tags(context.Background(), repo)
	if !errors.Is(err, registry.ErrTooManyPages) {
		t.Fatalf("Tags err = %v, want ErrTooManyPages", err)
	}
	for _, want := range []string{"team/endless", "10 pages"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := p.requests.Load(); n != 10 {
		t.Errorf("%d listing requests, want 10", n)
	}

	reg, _ := c.Registry(host)
	if _, err := c.Catalog(context.Background(), reg); !errors.Is(err, registry.ErrTooManyPages) {
		t.Fatalf("Catalog err = %v, want ErrTooManyPages", err)
	}
}

func TestTagsNameCap(t *testing.T) {
	// Pages of one tag each; a cap of three names stops the fourth page.
	p, host := startPaging(t, func(path string, page int) string {
		return fmt.Sprintf("%s?page=%d", path, page+1)
	})
	c := registry.New(registry.WithMaxListingNames(3))
	repo, _ := c.Repository(host + "/many")
	_, err := c.Tags(context.Background(), repo)
	if !errors.Is(err, registry.ErrTooManyNames) || !strings.Contains(err.Error(), "more than 3 names") {
		t.Fatalf("Tags err = %v, want ErrTooManyNames", err)
	}
	if n := p.requests.Load(); n != 4 {
		t.Errorf("%d listing requests, want 4", n)
	}
}

func TestTagsWithinPageCap(t *testing.T) {
	// Five pages, then none: a cap of five pages is enough.
	_, host := startPaging(t, func(path string, page int) string {
		if page == 4 {
			return ""
		}
		return fmt.Sprintf("%s?page=%d", path, page+1)
	})
	c := registry.New(registry.WithMaxPages(5))
	repo, _ := c.Repository(host + "/five")
	got, err := c.Tags(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"p0", "p1", "p2", "p3", "p4"}; !slices.Equal(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
}

func TestTagsStopWithContext(t *testing.T) {
	// The context is cancelled while the second page is served.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, host := startPaging(t, func(path string, page int) string {
		if page == 1 {
			cancel()
		}
		return fmt.Sprintf("%s?page=%d", path, page+1)
	})
	c := registry.New()
	repo, _ := c.Repository(host + "/slow")
	if _, err := c.Tags(ctx, repo); !errors.Is(err, context.Canceled) {
		t.Fatalf("Tags err = %v, want context.Canceled", err)
	}
	if n := p.requests.Load(); n > 3 {
		t.Errorf("%d listing requests after the context ended", n)
	}
}

func TestTagsPageSizeCap(t *testing.T) {
	// One page of 3000 tags (about 30 KB) against a cap of 10,000 bytes.
	var tags []string
	for i := range 3000 {
		tags = append(tags, fmt.Sprintf("tag%05d", i))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"name": "big", "tags": tags})
	}))
	t.Cleanup(srv.Close)
	host := srv.Listener.Addr().String()

	c := registry.New(registry.WithMaxListingPageSize(10_000))
	repo, _ := c.Repository(host + "/big")
	_, err := c.Tags(context.Background(), repo)
	if !errors.Is(err, registry.ErrPageTooLarge) || !strings.Contains(err.Error(), "/v2/big/tags/list") {
		t.Fatalf("Tags err = %v, want ErrPageTooLarge naming the page", err)
	}
	reg, _ := c.Registry(host)
	if _, err := c.Catalog(context.Background(), reg); !errors.Is(err, registry.ErrPageTooLarge) {
		t.Fatalf("Catalog err = %v, want ErrPageTooLarge", err)
	}

	// The same page under the default cap.
	got, err := registry.New().Tags(context.Background(), repo)
	if err != nil || len(got) != 3000 {
		t.Fatalf("Tags = %d tags, %v", len(got), err)
	}
}
