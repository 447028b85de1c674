// Package registrytest gives tests a real OCI registry (the CNCF reference
// registry, in memory) on a loopback port, and helpers to fill it.
package registrytest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/registry/embedded"
)

// Start serves an in-memory registry on 127.0.0.1 for the duration of the
// test and returns its host:port.
func Start(t testing.TB) string {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with middleware wrapped around the registry handler
// (nil for none), for tests that need auth, faults or request counts.
func StartWith(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h, cleanup, err := embedded.Handler(context.Background(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		cleanup()
	})
	return srv.Listener.Addr().String()
}

// Push writes img under ref (host/repo:tag) and fails the test on error.
func Push(t testing.TB, ref string, img v1.Image) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// PushRandom pushes one small random image under each tag of host/repo and
// returns the digests by tag. Each tag gets its own image.
func PushRandom(t testing.TB, host, repo string, tags ...string) map[string]v1.Hash {
	t.Helper()
	out := make(map[string]v1.Hash, len(tags))
	for _, tag := range tags {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		out[tag] = Push(t, fmt.Sprintf("%s/%s:%s", host, repo, tag), img)
	}
	return out
}

// PushTags pushes one small random image to host/repo and points every tag
// given at it. It is much faster than PushRandom for many tags.
func PushTags(t testing.TB, host, repo string, tags ...string) v1.Hash {
	t.Helper()
	if len(tags) == 0 {
		t.Fatal("PushTags: no tags")
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := remote.NewPusher()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := name.NewTag(host + "/" + repo + ":" + tags[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(ctx, first, img); err != nil {
		t.Fatalf("push %s: %v", first, err)
	}
	for _, tag := range tags[1:] {
		ref, err := name.NewTag(host + "/" + repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Push(ctx, ref, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
	d, _ := img.Digest()
	return d
}
