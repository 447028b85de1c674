package workflow

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/patchloop/patchloop/internal/publish"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/sign"
)

// TestSignedCycle runs a cycle that signs what it pushes, with the
// verify-before-patch policy on: the original signed with the trusted key
// is patched, signed, and gets every attachment; an unsigned original and
// one signed with another key are skipped, never patched.
func TestSignedCycle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	img := f.debian(t, "1.0-1")
	f.push(t, img, "app", "1.0")
	f.push(t, img, "unsigned", "1.0")
	f.push(t, img, "wrongkey", "1.0")
	trusted, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := sign.NewCosignSigner(trusted)
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, _ := sign.NewCosignSigner(other)
	verifier, err := sign.NewCosignVerifier(trusted.Public())
	if err != nil {
		t.Fatal(err)
	}
	client := registry.New()
	signOriginal := func(s sign.Signer, repo string) {
		r, _ := name.NewRepository(f.host + "/" + repo)
		target, err := publish.Target(ctx, client, r, f.digest(t, repo, "1.0"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Sign(ctx, target); err != nil {
			t.Fatal(err)
		}
	}
	signOriginal(signer, "app")
	signOriginal(otherSigner, "wrongkey")

	e := f.start(t, func(o *Options) {
		o.Signers = []sign.Signer{signer}
		o.Attach = true
		o.RequireSignature = []sign.Verifier{verifier}
	})
	f.create(t, e, configOf("incremental", "app", "unsigned", "wrongkey"), false)
	f.runCycle(t, e, day)

	st := imageStatuses(t, e, f.host, "")
	// The .sig tag of the signed original is not an image to patch.
	if len(st) != 3 {
		t.Fatalf("images: %v", slices.Collect(func(yield func(string) bool) {
			for k := range st {
				if !yield(k) {
					return
				}
			}
		}))
	}
	app := st["app:1.0"]
	if app.Patch == nil || app.Patch.Status != StatusSucceeded || app.Patch.Result.PatchedImage != "app:1.0-1" {
		t.Fatalf("app = %s", show(app))
	}
	if got := app.Patch.Result.Signed; !slices.Equal(got, []string{"cosign"}) || app.Patch.Result.Attachments != 5 {
		t.Errorf("app signed %v, %d attachments; want [cosign], 5", got, app.Patch.Result.Attachments)
	}
	for _, repo := range []string{"unsigned", "wrongkey"} {
		s := st[repo+":1.0"]
		if s.Patch == nil || s.Patch.Status != StatusSkipped || !strings.Contains(s.Patch.Result.SkippedReason, "not signed by a trusted key") {
			t.Errorf("%s = %s", repo, show(s))
		}
		if tags := f.tags(t, repo); slices.Contains(tags, "1.0-1") {
			t.Errorf("%s was patched: %v", repo, tags)
		}
	}

	// The patched image and its attachments verify with the trusted key.
	v, err := publish.Verify(ctx, f.host+"/app:1.0-1", publish.VerifyOptions{Client: client, Verifiers: []sign.Verifier{verifier}, Require: publish.AllKinds})
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || len(v.Checks) != 6 {
		t.Fatalf("verification: %+v", v)
	}
	// …and not with the other key.
	otherV, _ := sign.NewCosignVerifier(other.Public())
	v, err = publish.Verify(ctx, f.host+"/app:1.0-1", publish.VerifyOptions{Client: client, Verifiers: []sign.Verifier{otherV}})
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || v.Err() == nil {
		t.Fatalf("verified with the wrong key: %+v", v)
	}
	// The original's referrers were listed in the patch run's log.
	logs, err := e.RunLog(ctx, app.Patch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "original's referrer not copied") || !strings.Contains(logs, sign.BundleMediaType) {
		t.Errorf("patch log does not list the original's referrers:\n%s", logs)
	}
}

// flakySigner fails its first Sign, as a registry refusing the signature
// push would, then signs.
type flakySigner struct {
	sign.Signer
	mu     sync.Mutex
	failed bool
}

func (f *flakySigner) Sign(ctx context.Context, t sign.Target) error {
	f.mu.Lock()
	first := !f.failed
	f.failed = true
	f.mu.Unlock()
	if first {
		return errors.New("signature push refused")
	}
	return f.Signer.Sign(ctx, t)
}

// TestSignRetriedAfterPush: when signing fails after the push, the retry
// finds the push landed, does not push again, and signs the image.
func TestSignRetriedAfterPush(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	inner, _ := sign.NewCosignSigner(key)
	verifier, _ := sign.NewCosignVerifier(key.Public())
	e := f.start(t, func(o *Options) { o.Signers = []sign.Signer{&flakySigner{Signer: inner}} })
	f.create(t, e, configOf("incremental", "app"), false)
	f.runCycle(t, e, day)

	app := imageStatuses(t, e, f.host, "")["app:1.0"]
	if app.Patch == nil || app.Patch.Status != StatusSucceeded || !slices.Equal(app.Patch.Result.Signed, []string{"cosign"}) {
		t.Fatalf("app = %s", show(app))
	}
	logs, err := e.RunLog(ctx, app.Patch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "signature push refused") || !strings.Contains(logs, "published the patched image an earlier attempt pushed") {
		t.Errorf("patch log:\n%s", logs)
	}
	tags := f.tags(t, "app")
	if slices.Contains(tags, "1.0-2") {
		t.Fatalf("pushed twice: %v", tags)
	}
	r, _ := name.NewRepository(f.host + "/app")
	target, err := publish.Target(ctx, registry.New(), r, f.digest(t, "app", "1.0-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.Verify(ctx, target); err != nil {
		t.Fatal(err)
	}
}
