package discover_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/patchloop/patchloop/internal/discover"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// bigRepo is registry middleware that serves the tag listing of one
// repository from memory (sorted, paginated with n and last as the
// distribution API does), so that tests can list hundreds of thousands of
// tags without pushing them. Everything else goes to the real registry.
type bigRepo struct {
	repo     string
	tags     []string // sorted
	requests atomic.Int32
	// onPage, when set, runs after a page is written, before the handler
	// returns; last reports whether it was the final page.
	onPage func(last bool)
}

func (b *bigRepo) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/"+b.repo+"/tags/list" {
			h.ServeHTTP(w, r)
			return
		}
		b.requests.Add(1)
		q := r.URL.Query()
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n <= 0 {
			n = 100
		}
		start, _ := slices.BinarySearch(b.tags, q.Get("last"))
		if q.Get("last") != "" && start < len(b.tags) && b.tags[start] == q.Get("last") {
			start++
		}
		end := min(start+n, len(b.tags))
		page := b.tags[start:end]
		last := end == len(b.tags)
		if !last {
			next := url.Values{"n": {strconv.Itoa(n)}, "last": {page[len(page)-1]}}
			w.Header().Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"name": b.repo, "tags": page})
		if b.onPage != nil {
			b.onPage(last)
		}
	})
}

// manyTags returns n original tags, sorted; every tenth has patches -1 and
// -2 and a floating patch.
func manyTags(n int) []string {
	all := make([]string, 0, n+n/10*3)
	for i := range n {
		o := fmt.Sprintf("1.%07d", i)
		all = append(all, o)
		if i%10 == 0 {
			all = append(all, o+"-1", o+"-2", o+"-patched")
		}
	}
	return all // '-' sorts before every digit: already in order
}

func startBig(t testing.TB, b *bigRepo) string {
	t.Helper()
	host := registrytest.StartWith(t, b.wrap)
	registrytest.PushTags(t, host, b.repo, "seed") // the repository exists
	return host
}

// TestTargetsTwoHundredThousandTags lists 200,000 originals in one
// repository. Discovery used to compare every original with every tag
// (about 2×10¹⁰ comparisons here, minutes); it is linear now and takes well
// under a second.
func TestTargetsTwoHundredThousandTags(t *testing.T) {
	const n = 200_000
	b := &bigRepo{repo: "big/app", tags: manyTags(n)}
	host := startBig(t, b)
	cfg := parse(t, `{"version": "v1", "repositories": [{"repository": "big/app", "tags": ["*"]}]}`)
	c := registry.New(registry.WithPageSize(10_000))
	res, err := discover.Targets(context.Background(), c, host, cfg, discover.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != n {
		t.Fatalf("%d targets, want %d", len(res.Targets), n)
	}
	got := lines([]discover.Target{res.Targets[0], res.Targets[1], res.Targets[n-1]})
	want := []string{
		"big/app:1.0000000 latest=1.0000000-2 next=1.0000000-3",
		"big/app:1.0000001 latest=- next=1.0000001-1",
		"big/app:1.0199999 latest=- next=1.0199999-1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.IsSorted(b.tags) {
		t.Fatal("manyTags is not sorted")
	}
	if r := b.requests.Load(); r != int32((len(b.tags)+9_999)/10_000) {
		t.Errorf("%d listing requests for %d tags in pages of 10,000", r, len(b.tags))
	}
}

// TestTargetsCancelledWhileListing cancels the context while the last page
// of a 40,000-tag listing is served: Targets returns context.Canceled
// without grinding through the tags, and lists no further repository.
func TestTargetsCancelledWhileListing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := &bigRepo{repo: "big/app", tags: manyTags(40_000), onPage: func(last bool) {
		if last {
			cancel()
		}
	}}
	other := &bigRepo{repo: "other/app", tags: manyTags(10)}
	host := registrytest.StartWith(t, func(h http.Handler) http.Handler { return b.wrap(other.wrap(h)) })
	registrytest.PushTags(t, host, "big/app", "seed")
	cfg := parse(t, `{"version": "v1", "repositories": [
		{"repository": "big/app", "tags": ["*"]},
		{"repository": "other/app", "tags": ["*"]}
	]}`)
	res, err := discover.Targets(ctx, registry.New(), host, cfg, discover.Options{Parallel: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Targets err = %v, want context.Canceled", err)
	}
	if res != nil {
		t.Errorf("Targets returned %d targets with an error", len(res.Targets))
	}
	if n := other.requests.Load(); n != 0 {
		t.Errorf("the next repository was listed %d times after cancellation", n)
	}
}

func TestTargetsAlreadyCancelled(t *testing.T) {
	b := &bigRepo{repo: "big/app", tags: manyTags(100)}
	host := startBig(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := parse(t, `{"version": "v1", "repositories": [{"repository": "big/app", "tags": ["*"]}]}`)
	if _, err := discover.Targets(ctx, registry.New(), host, cfg, discover.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Targets err = %v, want context.Canceled", err)
	}
	if n := b.requests.Load(); n != 0 {
		t.Errorf("%d listing requests with a cancelled context", n)
	}
}

// TestTargetsLoopingRegistry: a registry whose tag listing links to itself
// fails the expansion with a clear error instead of listing for ever.
func TestTargetsLoopingRegistry(t *testing.T) {
	var requests atomic.Int32
	host := registrytest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v2/loop/tags/list" {
				h.ServeHTTP(w, r)
				return
			}
			if requests.Add(1) < 100 { // give up eventually, for a client that never would
				w.Header().Set("Link", `</v2/loop/tags/list?n=1000>; rel="next"`)
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"name": "loop", "tags": []string{"v1"}})
		})
	})
	cfg := parse(t, `{"version": "v1", "repositories": [{"repository": "loop", "tags": ["*"]}]}`)
	_, err := discover.Targets(context.Background(), registry.New(), host, cfg, discover.Options{})
	if !errors.Is(err, registry.ErrRepeatedPage) || !strings.Contains(err.Error(), host+"/loop") {
		t.Fatalf("Targets err = %v, want ErrRepeatedPage naming %s/loop", err, host)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d listing requests, want 1", n)
	}
}
