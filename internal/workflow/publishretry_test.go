package workflow

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/publish"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// failOnce answers 500 to the first manifest PUT whose body matches each
// predicate, once per predicate, passing everything else to the registry.
type failOnce struct {
	mu    sync.Mutex
	rules []func(body []byte, n int) bool
	seen  []int
	fired []bool
}

func (f *failOnce) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/manifests/") {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		fail := false
		for i, rule := range f.rules {
			if f.fired[i] || !rule(body, f.seen[i]) {
				continue
			}
			f.seen[i]++
			if rule(body, -1) {
				f.fired[i] = true
				fail = true
				break
			}
		}
		f.mu.Unlock()
		if fail {
			// 403: not retried by the registry client, the attempt fails.
			http.Error(w, `{"errors":[{"code":"DENIED","message":"injected failure"}]}`, http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TestPublishRetried: a registry refuses the signature of the first
// attachment (the attachment itself landed), then, on the retry, the
// first SPDX attachment. The retried patch task finishes the whole
// publish step: the image, every attachment and every signature exactly
// once, nothing pushed twice, and publish.Verify accepts the result.
func TestPublishRetried(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	bundleType := []byte(`"artifactType":"` + sign.BundleMediaType + `"`)
	fail := &failOnce{
		rules: []func([]byte, int) bool{
			// The second bundle referrer (the first is the image's; the
			// second signs the OpenVEX attachment).
			func(b []byte, _ int) bool { return referrer(b, bundleType) },
			func(b []byte, _ int) bool {
				return referrer(b, []byte(`"artifactType":"`+publish.ArtifactTypeSPDX+`"`))
			},
		},
	}
	// Rule 0 fires on its second match only.
	bundleRule := fail.rules[0]
	count := 0
	fail.rules[0] = func(b []byte, n int) bool {
		if !bundleRule(b, n) {
			return false
		}
		if n < 0 {
			count++
			return count == 2
		}
		return true
	}
	fail.seen = make([]int, len(fail.rules))
	fail.fired = make([]bool, len(fail.rules))
	f.host = registrytest.StartWith(t, fail.wrap)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := sign.NewCosignSigner(key)
	verifier, _ := sign.NewCosignVerifier(key.Public())
	e := f.start(t, func(o *Options) {
		o.Signers = []sign.Signer{signer}
		o.Attach = true
	})
	f.create(t, e, configOf("incremental", "app"), false)
	f.runCycle(t, e, day)

	if !slices.Equal(fail.fired, []bool{true, true}) {
		t.Fatalf("failures injected: %v", fail.fired)
	}
	app := imageStatuses(t, e, f.host, "")["app:1.0"]
	if app.Patch == nil || app.Patch.Status != StatusSucceeded || !slices.Equal(app.Patch.Result.Signed, []string{"cosign"}) || app.Patch.Result.Attachments != 5 {
		t.Fatalf("app = %s", show(app))
	}
	if tags := f.tags(t, "app"); slices.Contains(tags, "1.0-2") {
		t.Fatalf("pushed twice: %v", tags)
	}
	client := registry.New()
	v, err := publish.Verify(ctx, f.host+"/app:1.0-1", publish.VerifyOptions{Client: client, Verifiers: []sign.Verifier{verifier}, Require: publish.AllKinds})
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK {
		t.Fatalf("verification: %+v", v)
	}
	r, _ := name.NewRepository(f.host + "/app")
	image, err := publish.Target(ctx, client, r, f.digest(t, "app", "1.0-1"))
	if err != nil {
		t.Fatal(err)
	}
	// Exactly once: one of each kind, one bundle and one .sig layer on
	// the image and on every attachment.
	refs, err := sign.Referrers(ctx, image, "")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	targets := []sign.Target{image}
	for _, d := range refs {
		if k := publish.KindOf(d); k != "" {
			kinds[k]++
			targets = append(targets, sign.Target{Repo: r, Descriptor: d})
		}
	}
	for _, k := range publish.AllKinds {
		if kinds[k] != 1 {
			t.Errorf("%d %s attachments, want 1 (all: %v)", kinds[k], k, kinds)
		}
	}
	for _, tg := range targets {
		bundles, err := sign.Referrers(ctx, tg, sign.BundleMediaType)
		if err != nil {
			t.Fatal(err)
		}
		if len(bundles) != 1 {
			t.Errorf("%s: %d bundle referrers, want 1", tg, len(bundles))
		}
		img, err := remote.Image(sign.SigTag(tg))
		if err != nil {
			t.Fatalf("%s: %v", sign.SigTag(tg), err)
		}
		if m, err := img.Manifest(); err != nil || len(m.Layers) != 1 {
			t.Errorf("%s: %v layers (%v), want 1", sign.SigTag(tg), layersOf(m), err)
		}
	}
	logs, err := e.RunLog(ctx, app.Patch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "injected failure") || !strings.Contains(logs, "published the patched image an earlier attempt pushed") {
		t.Errorf("patch log:\n%s", logs)
	}
}

// referrer reports whether a manifest body is a referrer (it has a
// subject; the referrers tag index has none) of the artifact type.
func referrer(body, artifactType []byte) bool {
	return bytes.Contains(body, []byte(`"subject":`)) && bytes.Contains(body, artifactType)
}

func layersOf(m *v1.Manifest) int {
	if m == nil {
		return -1
	}
	return len(m.Layers)
}
