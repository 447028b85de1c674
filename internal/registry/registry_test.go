package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

func TestCatalogAndTagsPaginate(t *testing.T) {
	host := registrytest.Start(t)
	var want []string
	for i := range 7 {
		repo := fmt.Sprintf("team/app%d", i)
		want = append(want, repo)
		registrytest.PushRandom(t, host, repo, "v1")
	}
	var tags []string
	for i := range 12 {
		tags = append(tags, fmt.Sprintf("t%02d", i))
	}
	registrytest.PushRandom(t, host, "team/app0", tags...)

	ctx := context.Background()
	c := registry.New(registry.WithPageSize(3), registry.WithKeychain(authn.NewMultiKeychain()))
	reg, err := c.Registry(host)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := c.Catalog(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(repos, want) {
		t.Fatalf("Catalog = %v, want %v", repos, want)
	}
	repo, _ := c.Repository(host + "/team/app0")
	got, err := c.Tags(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	wantTags := append(slices.Clone(tags), "v1")
	slices.Sort(wantTags)
	if !slices.Equal(got, wantTags) {
		t.Fatalf("Tags = %v, want %v", got, wantTags)
	}
}

func TestPushResolveDelete(t *testing.T) {
	host := registrytest.Start(t)
	ctx := context.Background()
	c := registry.New()
	img, _ := random.Image(128, 2)
	ref, err := c.ParseReference(host + "/app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Push(ctx, ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := c.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if d.Digest != want {
		t.Fatalf("Resolve = %s, want %s", d.Digest, want)
	}
	byDigest, _ := c.ParseReference(host + "/app@" + want.String())
	if err := c.Delete(ctx, byDigest); err != nil {
		t.Fatal(err)
	}
	_, err = c.Resolve(ctx, ref)
	if !registry.IsNotFound(err) {
		t.Fatalf("Resolve after delete = %v, want not found", err)
	}
	missing, _ := c.Repository(host + "/nope")
	if _, err := c.Tags(ctx, missing); !registry.IsNotFound(err) {
		t.Fatalf("Tags of a missing repository = %v, want not found", err)
	}
}

func TestRetriesHonourRetryAfter(t *testing.T) {
	var calls atomic.Int32
	host := registrytest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/_catalog" {
				switch calls.Add(1) {
				case 1:
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				case 2:
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	registrytest.PushRandom(t, host, "x", "1")
	c := registry.New(registry.WithRetry(registry.RetryPolicy{Attempts: 3, Base: 10 * time.Millisecond}))
	reg, _ := c.Registry(host)
	start := time.Now()
	repos, err := c.Catalog(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("catalog returned after %v; Retry-After: 1 was not honoured", el)
	}
	if calls.Load() != 3 || !slices.Equal(repos, []string{"x"}) {
		t.Fatalf("calls = %d, repos = %v", calls.Load(), repos)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	var calls atomic.Int32
	host := registrytest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/_catalog" {
				calls.Add(1)
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	c := registry.New(registry.WithRetry(registry.RetryPolicy{Attempts: 3, Base: time.Millisecond}))
	reg, _ := c.Registry(host)
	if _, err := c.Catalog(context.Background(), reg); err == nil {
		t.Fatal("Catalog succeeded against a registry that always fails")
	}
	if calls.Load() != 3 {
		t.Fatalf("calls = %d, want 3", calls.Load())
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	host := registrytest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			w.(http.Flusher).Flush()
			// The client now waits 30 s before retrying: cancel it.
			cancel()
		})
	})
	c := registry.New()
	reg, _ := c.Registry(host)
	start := time.Now()
	_, err := c.Catalog(ctx, reg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	// Well below the 30 s the server asked for, however loaded the machine.
	if el := time.Since(start); el > 20*time.Second {
		t.Fatalf("retry did not stop with the context: %v", el)
	}
}

func TestBasicAuth(t *testing.T) {
	host := registrytest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != "alice" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	reg := host
	anon := registry.New(registry.WithKeychain(authn.NewMultiKeychain()))
	r, _ := anon.Registry(reg)
	if _, err := anon.Catalog(context.Background(), r); !registry.IsUnauthorized(err) {
		t.Fatalf("anonymous catalog err = %v, want unauthorized", err)
	}
	c := registry.New(registry.WithKeychain(registry.StaticKeychain(host, "alice", "s3cret", nil)))
	if _, err := c.Catalog(context.Background(), r); err != nil {
		t.Fatalf("authenticated catalog: %v", err)
	}
}
