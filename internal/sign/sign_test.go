package sign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// noReferrers hides the referrers API of the registry behind it: 404 for
// /referrers/ and no OCI-Subject header, as registries without OCI 1.1
// answer.
func noReferrers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/referrers/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(stripSubject{w}, r)
	})
}

type stripSubject struct{ http.ResponseWriter }

func (s stripSubject) WriteHeader(code int) {
	s.Header().Del("OCI-Subject")
	s.ResponseWriter.WriteHeader(code)
}

func (s stripSubject) Write(b []byte) (int, error) {
	s.Header().Del("OCI-Subject")
	return s.ResponseWriter.Write(b)
}

// pushTarget pushes a random image to host/repo:tag and returns it as a
// target.
func pushTarget(t testing.TB, host, repo string) sign.Target {
	t.Helper()
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	registrytest.Push(t, host+"/"+repo+":1.0", img)
	d, err := partial.Descriptor(img)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	return sign.Target{Repo: r, Descriptor: *d}
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCosignSignVerify(t *testing.T) {
	for _, tc := range []struct {
		name       string
		referrers  bool
		bundleOnly bool
	}{
		{"referrers API", true, false},
		{"tag schema", false, false},
		{"tag schema, bundle only", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var host string
			if tc.referrers {
				host = registrytest.Start(t)
			} else {
				host = registrytest.StartWith(t, noReferrers)
			}
			target := pushTarget(t, host, "app")
			other := pushTarget(t, host, "app")
			key := ecKey(t)
			s, err := sign.NewCosignSigner(key)
			if err != nil {
				t.Fatal(err)
			}
			s.BundleOnly = tc.bundleOnly
			if err := s.Sign(ctx, target); err != nil {
				t.Fatal(err)
			}
			v, err := sign.NewCosignVerifier(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(ctx, target); err != nil {
				t.Fatalf("verify: %v", err)
			}
			// Signing twice keeps one signature of ours in the .sig tag.
			if err := s.Sign(ctx, target); err != nil {
				t.Fatal(err)
			}

			// The referrer, listed through the OCI API (or the tag schema).
			refs, err := sign.Referrers(ctx, target, sign.BundleMediaType)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 2 {
				t.Fatalf("%d bundle referrers, want 2 (signed twice)", len(refs))
			}
			if !tc.referrers {
				if _, err := remote.Head(target.Repo.Tag(strings.Replace(target.Descriptor.Digest.String(), ":", "-", 1))); err != nil {
					t.Fatalf("no referrers tag schema index: %v", err)
				}
			}
			// sigstore-go's own verification of the bundle as stored.
			data := bundleOf(t, target, refs[0].Digest)
			verifyWithSigstoreGo(t, data, key.Public(), target.Descriptor.Digest)

			if !tc.bundleOnly {
				sigImg, err := remote.Image(sign.SigTag(target))
				if err != nil {
					t.Fatal(err)
				}
				m, _ := sigImg.Manifest()
				if len(m.Layers) != 1 || m.Layers[0].MediaType != sign.SimpleSigningMediaType || m.Layers[0].Annotations[sign.AnnotationCosignSignature] == "" {
					t.Fatalf(".sig manifest: %+v", m.Layers)
				}
			}

			// Another digest is not signed.
			if err := v.Verify(ctx, other); !errors.Is(err, sign.ErrNotSigned) {
				t.Fatalf("other image: %v, want ErrNotSigned", err)
			}
			// Another key does not verify.
			v2, _ := sign.NewCosignVerifier(ecKey(t).Public())
			if err := v2.Verify(ctx, target); !errors.Is(err, sign.ErrBadSignature) {
				t.Fatalf("wrong key: %v, want ErrBadSignature", err)
			}
		})
	}
}

// bundleOf reads the bundle layer of a referrer, checking it is one.
func bundleOf(t *testing.T, target sign.Target, d v1.Hash) []byte {
	t.Helper()
	data := bundleLayer(t, target, d)
	img, _ := remote.Image(target.Repo.Digest(d.String()))
	m, _ := img.Manifest()
	if m.ArtifactType != sign.BundleMediaType {
		t.Fatalf("referrer manifest: artifactType %q", m.ArtifactType)
	}
	return data
}

// bundleLayer reads the first layer of a referrer of target.
func bundleLayer(t *testing.T, target sign.Target, d v1.Hash) []byte {
	t.Helper()
	img, err := remote.Image(target.Repo.Digest(d.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject == nil || m.Subject.Digest != target.Descriptor.Digest {
		t.Fatalf("referrer manifest: subject %+v", m.Subject)
	}
	l, err := img.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf strings.Builder
	if _, err := ioCopy(&buf, rc); err != nil {
		t.Fatal(err)
	}
	return []byte(buf.String())
}

// verifyWithSigstoreGo verifies a bundle with sigstore-go alone.
func verifyWithSigstoreGo(t *testing.T, data []byte, pub crypto.PublicKey, digest v1.Hash) {
	t.Helper()
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(sv, time.Time{}, time.Time{}), nil
	})
	vf, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hexDecode(digest.Hex)
	res, err := vf.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", want), verify.WithKey()))
	if err != nil {
		t.Fatalf("sigstore-go: %v", err)
	}
	if res.Statement.GetPredicateType() != sign.CosignPredicateType {
		t.Fatalf("predicate %q", res.Statement.GetPredicateType())
	}
	// The same bundle does not verify for another digest.
	want[0] ^= 1
	if _, err := vf.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", want), verify.WithKey())); err == nil {
		t.Fatal("sigstore-go accepted the bundle for another digest")
	}
}

// TestCosignTampered pushes forged signatures for an image: a bundle
// whose statement was edited after signing, and a .sig payload naming
// the image but signed over other bytes.
func TestCosignTampered(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	target := pushTarget(t, host, "app")
	other := pushTarget(t, host, "app")
	key := ecKey(t)
	s, _ := sign.NewCosignSigner(key)
	v, _ := sign.NewCosignVerifier(key.Public())

	// A genuine bundle for the other image, its statement's digest
	// rewritten to the target's, pushed as the target's referrer.
	good, err := s.Bundle(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(good, &raw); err != nil {
		t.Fatal(err)
	}
	env := raw["dsseEnvelope"].(map[string]any)
	payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
	forged := strings.ReplaceAll(string(payload), other.Descriptor.Digest.Hex, target.Descriptor.Digest.Hex)
	env["payload"] = base64.StdEncoding.EncodeToString([]byte(forged))
	bad, _ := json.Marshal(raw)
	art := sign.Artifact{
		ArtifactType: sign.BundleMediaType,
		Blobs:        []sign.Blob{{MediaType: sign.BundleMediaType, Data: bad}},
		Subject:      &target.Descriptor,
	}
	if _, err := art.Push(ctx, target); err != nil {
		t.Fatal(err)
	}
	// An untouched bundle of the other image, pushed as the target's
	// referrer: its subject digest is wrong.
	art.Blobs[0].Data = good
	if _, err := art.Push(ctx, target); err != nil {
		t.Fatal(err)
	}
	err = v.Verify(ctx, target)
	if !errors.Is(err, sign.ErrBadSignature) {
		t.Fatalf("forged bundles: %v, want ErrBadSignature", err)
	}
	t.Log(err)

	// A .sig layer whose payload was edited after signing.
	s.BundleOnly = false
	if err := s.Sign(ctx, other); err != nil {
		t.Fatal(err)
	}
	sigImg, err := remote.Image(sign.SigTag(other))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := sigImg.Manifest()
	l, _ := sigImg.LayerByDigest(m.Layers[0].Digest)
	rc, _ := l.Compressed()
	var buf strings.Builder
	_, _ = ioCopy(&buf, rc)
	rc.Close()
	edited := strings.ReplaceAll(buf.String(), other.Descriptor.Digest.String(), target.Descriptor.Digest.String())
	sigArt := sign.Artifact{Blobs: []sign.Blob{{MediaType: sign.SimpleSigningMediaType, Data: []byte(edited), Annotations: m.Layers[0].Annotations}}}
	img, err := sigArt.Image()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(sign.SigTag(target), img); err != nil {
		t.Fatal(err)
	}
	only := sign.Target{Repo: target.Repo, Descriptor: target.Descriptor}
	if err := v.Verify(ctx, only); !errors.Is(err, sign.ErrBadSignature) || !strings.Contains(err.Error(), ".sig layer 0") {
		t.Fatalf("edited .sig payload: %v", err)
	}
}

func TestLoadPrivateKey(t *testing.T) {
	dir := t.TempDir()
	ec := ecKey(t)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	enc, err := encrypted.Encrypt(pkcs8(ec), []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	cosignKey := write("cosign.key", "ENCRYPTED SIGSTORE PRIVATE KEY", enc)
	for _, p := range []string{
		write("ec.pem", "PRIVATE KEY", pkcs8(ec)),
		write("ed.pem", "PRIVATE KEY", pkcs8(ed)),
		write("rsa.pem", "PRIVATE KEY", pkcs8(rs)),
		cosignKey,
	} {
		k, err := sign.LoadPrivateKey(p, []byte("s3cret"))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, err := sign.NewCosignSigner(k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sign.LoadPrivateKey(cosignKey, []byte("wrong")); err == nil || !strings.Contains(err.Error(), "COSIGN_PASSWORD") {
		t.Fatalf("wrong password: %v", err)
	}
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if _, err := sign.LoadPrivateKey(write("p224.pem", "PRIVATE KEY", pkcs8(p224)), nil); err == nil || !strings.Contains(err.Error(), "P-224") {
		t.Fatalf("P-224: %v", err)
	}
	if _, err := sign.LoadPrivateKey(write("x.pem", "CERTIFICATE", []byte{1}), nil); err == nil || !strings.Contains(err.Error(), "x.pem") {
		t.Fatalf("certificate: %v", err)
	}
}

// TestCosignKeyTypes signs and verifies with each key type.
func TestCosignKeyTypes(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, key := range []crypto.Signer{ed, rs, p384} {
		target := pushTarget(t, host, "keys")
		s, err := sign.NewCosignSigner(key)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Sign(ctx, target); err != nil {
			t.Fatalf("%T: %v", key, err)
		}
		v, _ := sign.NewCosignVerifier(key.Public())
		if err := v.Verify(ctx, target); err != nil {
			t.Fatalf("%T: %v", key, err)
		}
		refs, _ := sign.Referrers(ctx, target, sign.BundleMediaType)
		verifyWithSigstoreGo(t, bundleOf(t, target, refs[0].Digest), key.Public(), target.Descriptor.Digest)
	}
}

// TestSigTagLimit: a .sig tag stuffed with signatures is refused rather
// than read blob by blob.
func TestSigTagLimit(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	target := pushTarget(t, host, "app")
	var blobs []sign.Blob
	for i := range 257 {
		blobs = append(blobs, sign.Blob{MediaType: sign.SimpleSigningMediaType, Data: []byte(strings.Repeat("x", i+1))})
	}
	img, err := sign.Artifact{Blobs: blobs}.Image()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(sign.SigTag(target), img); err != nil {
		t.Fatal(err)
	}
	v, _ := sign.NewCosignVerifier(ecKey(t).Public())
	if err := v.Verify(ctx, target); err == nil || !strings.Contains(err.Error(), "over the limit of 256") {
		t.Fatalf("stuffed .sig tag: %v", err)
	}
}
