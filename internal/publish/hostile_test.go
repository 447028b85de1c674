package publish_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/publish"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// swapReferrers answers the referrers request of one manifest with the
// referrers of another, as a hostile registry (or proxy) could.
type swapReferrers struct {
	mu       sync.Mutex
	from, to string
}

func (s *swapReferrers) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		from, to := s.from, s.to
		s.mu.Unlock()
		// The referrers API, or the referrers tag schema's sha256-<hex>.
		tagFrom, tagTo := strings.Replace(from, ":", "-", 1), strings.Replace(to, ":", "-", 1)
		switch {
		case from != "" && strings.HasSuffix(r.URL.Path, "/referrers/"+from):
			r.URL.Path = strings.TrimSuffix(r.URL.Path, from) + to
			r.URL.RawPath = ""
			r.RequestURI = r.URL.RequestURI()
		case from != "" && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/manifests/"+tagFrom):
			r.URL.Path = strings.TrimSuffix(r.URL.Path, tagFrom) + tagTo
			r.URL.RawPath = ""
			r.RequestURI = r.URL.RequestURI()
		}
		h.ServeHTTP(w, r)
	})
}

// TestVerifyForeignAttachments: a registry lists, as referrers of a
// signed image without attachments, the genuine signed attachments of
// another image of the same repository (same key). Verify refuses them
// (their manifests name the other image) and reports every kind
// missing; publish.Run does not take them for its own either.
func TestVerifyForeignAttachments(t *testing.T) {
	ctx := context.Background()
	swap := &swapReferrers{}
	host := registrytest.StartWith(t, swap.wrap)
	client := registry.New()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := sign.NewCosignSigner(key)
	verifier, _ := sign.NewCosignVerifier(key.Public())
	push := func(tag string) v1.Hash {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		return registrytest.Push(t, host+"/app:"+tag, img)
	}
	orig, other, victim := push("1.0"), push("2.0-1"), push("1.0-1")
	publishOne := func(digest v1.Hash, tag string, attach bool) *publish.Result {
		res := &patch.Result{Image: host + "/app:1.0", Reference: host + "/app:" + tag, Tag: tag, Digest: digest.String(),
			Fixed:     []string{"CVE-2024-0001"},
			Platforms: []patch.PlatformResult{{Platform: "linux/amd64", Original: orig.String(), Digest: digest.String()}}}
		pub, err := publish.Run(ctx, res, publish.Options{Client: client, Signers: []sign.Signer{signer}, Attach: attach,
			Before: func(string) *scan.Report { return report("1.0-1") },
			Scan:   func(context.Context, v1.Image, string) (*scan.Report, error) { return report("1.0-2"), nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		return pub
	}
	publishOne(other, "2.0-1", true)
	publishOne(victim, "1.0-1", false)

	swap.mu.Lock()
	swap.from, swap.to = victim.String(), other.String()
	swap.mu.Unlock()
	v, err := publish.Verify(ctx, host+"/app:1.0-1", publish.VerifyOptions{Client: client, Verifiers: []sign.Verifier{verifier}, Require: publish.AllKinds})
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || len(v.Missing) != len(publish.AllKinds) {
		t.Fatalf("another image's attachments accepted: %+v", v)
	}
	if !strings.Contains(v.Err().Error(), "subject is another manifest") {
		t.Errorf("error %v (%+v)", v.Err(), v)
	}

	// Publishing the victim now writes its own attachments instead of
	// taking the other image's, listed, for earlier attempts' (they are
	// signed by the same key).
	pub := publishOne(victim, "1.0-1", true)
	for _, a := range pub.Attachments {
		if a.Subject != victim.String() {
			t.Errorf("attachment %+v", a)
		}
	}
	if len(pub.Attachments) != len(publish.AllKinds) {
		t.Errorf("attachments %+v", pub.Attachments)
	}
}

// TestCheckOriginalIndex: the verify-before-patch policy checks the
// manifest the tag names. A signed index vouches for its platform
// manifests (its digest covers theirs, as cosign verify sees it); a tag
// naming one platform manifest of that index directly needs that
// manifest's own signature.
func TestCheckOriginalIndex(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	client := registry.New()
	idx, children := pushIndex(t, host, "app", "1.0")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := sign.NewCosignSigner(key)
	verifier, _ := sign.NewCosignVerifier(key.Public())
	repo, _ := name.NewRepository(host + "/app")
	it, err := publish.Target(ctx, client, repo, idx.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.Sign(ctx, it); err != nil {
		t.Fatal(err)
	}
	check := publish.CheckOriginal(client, []sign.Verifier{verifier}, nil)
	ref, _ := name.ParseReference(host + "/app:1.0")
	if err := check(ctx, ref, it.Descriptor); err != nil {
		t.Fatalf("signed index: %v", err)
	}
	ct, err := publish.Target(ctx, client, repo, children[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if err := check(ctx, ref, ct.Descriptor); !errors.Is(err, publish.ErrUntrusted) {
		t.Fatalf("unsigned platform manifest of a signed index: %v", err)
	}
}
