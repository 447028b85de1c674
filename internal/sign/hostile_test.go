package sign_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// hostile is a proxy in front of the test registry whose answer to the
// referrers of one digest (API and tag schema) a test chooses.
type hostile struct {
	mu     sync.Mutex
	digest string
	serve  func(w http.ResponseWriter, r *http.Request, h http.Handler) bool
	// every, when set, sees every request first.
	every func(w http.ResponseWriter, r *http.Request) bool
}

func (p *hostile) set(digest v1.Hash, serve func(w http.ResponseWriter, r *http.Request, h http.Handler) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.digest, p.serve = digest.String(), serve
}

func (p *hostile) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		d, serve, every := p.digest, p.serve, p.every
		p.mu.Unlock()
		if every != nil && every(w, r) {
			return
		}
		if d != "" && r.Method == http.MethodGet && (strings.HasSuffix(r.URL.Path, "/referrers/"+d) ||
			strings.HasSuffix(r.URL.Path, "/manifests/"+strings.Replace(d, ":", "-", 1))) {
			if serve(w, r, h) {
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// referrersOf answers with the referrers of another digest.
func referrersOf(other v1.Hash) func(http.ResponseWriter, *http.Request, http.Handler) bool {
	return func(w http.ResponseWriter, r *http.Request, h http.Handler) bool {
		from := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		to := other.String()
		if strings.HasPrefix(from, "sha256-") {
			to = strings.Replace(to, ":", "-", 1)
		}
		r.URL.Path = strings.TrimSuffix(r.URL.Path, from) + to
		r.URL.RawPath = ""
		r.RequestURI = r.URL.RequestURI()
		h.ServeHTTP(w, r)
		return true
	}
}

// TestVerifyHostileRegistry: what a registry (or a proxy, or anyone who
// can push) serves cannot make a cosign or Notary verifier accept an
// image its key did not sign; each case gives an error.
func TestVerifyHostileRegistry(t *testing.T) {
	ctx := context.Background()
	p := &hostile{}
	host := registrytest.StartWith(t, p.wrap)
	// Through Patchloop's registry client, as the commands read.
	client := registry.New()
	target := pushTarget(t, host, "app")
	other := pushTarget(t, host, "app")
	target.Options, other.Options = client.Options(ctx), client.Options(ctx)
	key := ecKey(t)
	cs, _ := sign.NewCosignSigner(key)
	cv, _ := sign.NewCosignVerifier(key.Public())
	nkey, chain := testCA(t, "signer")
	ns, _ := sign.NewNotationSigner(nkey, chain)
	nv, _ := sign.NewNotationVerifier(chain[1:])
	for _, s := range []sign.Signer{cs, ns} {
		if err := s.Sign(ctx, other); err != nil {
			t.Fatal(err)
		}
	}
	verifiers := []sign.Verifier{cv, nv}
	expect := func(t *testing.T, want error) {
		t.Helper()
		for _, v := range verifiers {
			done := make(chan error, 1)
			go func() { done <- v.Verify(ctx, target) }()
			select {
			case err := <-done:
				if err == nil || want != nil && !errors.Is(err, want) {
					t.Errorf("%s: %v, want %v", v.Scheme(), err, want)
				}
				t.Logf("%s: %v", v.Scheme(), err)
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: no answer in 30 s", v.Scheme())
			}
		}
	}

	t.Run("referrers of another image", func(t *testing.T) {
		p.set(target.Descriptor.Digest, referrersOf(other.Descriptor.Digest))
		expect(t, sign.ErrBadSignature)
	})
	t.Run("thousands of referrers", func(t *testing.T) {
		idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
		for i := range 5000 {
			h, _, _ := v1.SHA256(strings.NewReader(fmt.Sprint(i)))
			for _, at := range []string{sign.BundleMediaType, sign.NotationArtifactType} {
				idx.Manifests = append(idx.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h, Size: 100, ArtifactType: at})
			}
		}
		body, _ := json.Marshal(idx)
		p.set(target.Descriptor.Digest, func(w http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
			w.Header().Set("Content-Type", string(types.OCIImageIndex))
			_, _ = w.Write(body)
			return true
		})
		expect(t, nil)
	})
	t.Run("redirect loop", func(t *testing.T) {
		p.set(target.Descriptor.Digest, func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
			return true
		})
		expect(t, nil)
	})
	t.Run("huge manifest", func(t *testing.T) {
		// One bundle referrer listed, whose manifest is 64 MiB.
		huge, _, _ := v1.SHA256(strings.NewReader("huge"))
		idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
			{MediaType: types.OCIManifestSchema1, Digest: huge, Size: 300, ArtifactType: sign.BundleMediaType},
			{MediaType: types.OCIManifestSchema1, Digest: huge, Size: 300, ArtifactType: sign.NotationArtifactType},
		}}
		body, _ := json.Marshal(idx)
		p.set(target.Descriptor.Digest, func(w http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
			w.Header().Set("Content-Type", string(types.OCIImageIndex))
			_, _ = w.Write(body)
			return true
		})
		var written atomic.Int64
		p.mu.Lock()
		p.every = func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/manifests/"+huge.String()) || r.Method != http.MethodGet {
				return false
			}
			w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
			chunk := make([]byte, 1<<20)
			for range 64 {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					break
				}
			}
			return true
		}
		p.mu.Unlock()
		expect(t, nil)
		p.mu.Lock()
		p.every = nil
		p.mu.Unlock()
		// Two verifiers, each reading it (and retrying) at most once or
		// twice past the 8 MiB cap, never 64 MiB each.
		if w := written.Load(); w >= 64<<20 {
			t.Errorf("the registry sent %d MiB of manifests", w>>20)
		}
		t.Logf("sent %d MiB", written.Load()>>20)
	})
	p.set(v1.Hash{}, nil)

	t.Run("sig tag of another image", func(t *testing.T) {
		// other's genuine .sig manifest, copied under target's .sig tag.
		img, err := remote.Image(sign.SigTag(other))
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(sign.SigTag(target), img); err != nil {
			t.Fatal(err)
		}
		if err := cv.Verify(ctx, target); !errors.Is(err, sign.ErrBadSignature) {
			t.Fatalf("copied .sig: %v", err)
		}
	})
}

// TestNotationExpiredCertificate: a Notary Project signature made with a
// leaf certificate that has since expired no longer verifies (the strict
// trust policy level checks expiry).
func TestNotationExpiredCertificate(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	target := pushTarget(t, host, "app")
	now := time.Now()
	key, chain := caWithLeaf(t, now.Add(-time.Hour), now.Add(2*time.Second))
	s, err := sign.NewNotationSigner(key, chain)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sign(ctx, target); err != nil {
		t.Fatal(err)
	}
	v, _ := sign.NewNotationVerifier(chain[1:])
	if err := v.Verify(ctx, target); err != nil {
		t.Fatalf("valid certificate: %v", err)
	}
	time.Sleep(time.Until(chain[0].NotAfter.Add(1100 * time.Millisecond)))
	err = v.Verify(ctx, target)
	if !errors.Is(err, sign.ErrBadSignature) {
		t.Fatalf("expired certificate: %v", err)
	}
	t.Log(err)
}

// caWithLeaf is testCA with the leaf valid from notBefore to notAfter.
func caWithLeaf(t testing.TB, notBefore, notAfter time.Time) (*ecdsa.PrivateKey, []*x509.Certificate) {
	t.Helper()
	rootKey := ecKey(t)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "root", Organization: []string{"Patchloop test"}},
		NotBefore: notBefore.Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(nil, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey := ecKey(t)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "signer", Organization: []string{"Patchloop test"}},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	leafDER, err := x509.CreateCertificate(nil, leafTmpl, root, leafKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return leafKey, []*x509.Certificate{leaf, root}
}

// TestNotationNotYetValidCertificate: a leaf certificate whose validity
// starts in the future is refused, when signing or when verifying.
func TestNotationNotYetValidCertificate(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	target := pushTarget(t, host, "app")
	now := time.Now()
	key, chain := caWithLeaf(t, now.Add(time.Hour), now.Add(2*time.Hour))
	s, err := sign.NewNotationSigner(key, chain)
	if err == nil {
		err = s.Sign(ctx, target)
	}
	if err != nil {
		t.Logf("signing refused: %v", err)
		return
	}
	v, _ := sign.NewNotationVerifier(chain[1:])
	if err := v.Verify(ctx, target); !errors.Is(err, sign.ErrBadSignature) {
		t.Fatalf("not yet valid certificate: %v", err)
	}
}
