package sign_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	nregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// testCA makes a root CA and a code-signing leaf issued by it, as a
// Notary Project signer needs them.
func testCA(t testing.TB, cn string) (leafKey *ecdsa.PrivateKey, chain []*x509.Certificate) {
	t.Helper()
	rootKey := ecKey(t)
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn + " root", Organization: []string{"Patchloop test"}, Country: []string{"US"}, Province: []string{"WA"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(nil, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey = ecKey(t)
	leafTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Patchloop test"}, Country: []string{"US"}, Province: []string{"WA"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(12 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	leafDER, err := x509.CreateCertificate(nil, leafTmpl, root, leafKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return leafKey, []*x509.Certificate{leaf, root}
}

// notationVerifierFromDir is a notation-go verifier configured the way
// the notation CLI is: a trust policy and an x509 trust store on disk.
func notationVerifierFromDir(t *testing.T, root *x509.Certificate) notation.Verifier {
	t.Helper()
	cfg := t.TempDir()
	store := filepath.Join(cfg, dir.X509TrustStoreDir("ca", "test"))
	if err := os.MkdirAll(store, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store, "root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := []byte(`{"version": "1.0", "trustPolicies": [{"name": "test", "registryScopes": ["*"],
		"signatureVerification": {"level": "strict", "override": {"revocation": "skip"}},
		"trustStores": ["ca:test"], "trustedIdentities": ["*"]}]}`)
	var doc trustpolicy.Document
	if err := json.Unmarshal(policy, &doc); err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(&doc, truststore.NewX509TrustStore(dir.NewSysFS(cfg)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNotationSignVerify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		referrers bool
		cose      bool
	}{
		{"JWS, referrers API", true, false},
		{"COSE, referrers API", true, true},
		{"JWS, tag schema", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			host := registrytest.Start(t)
			if !tc.referrers {
				host = registrytest.StartWith(t, noReferrers)
			}
			target := pushTarget(t, host, "app")
			other := pushTarget(t, host, "app")
			key, chain := testCA(t, "signer")
			s, err := sign.NewNotationSigner(key, chain)
			if err != nil {
				t.Fatal(err)
			}
			if tc.cose {
				s.MediaType = cose.MediaTypeEnvelope
			}
			if err := s.Sign(ctx, target); err != nil {
				t.Fatal(err)
			}
			v, err := sign.NewNotationVerifier(chain[1:])
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(ctx, target); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if err := v.Verify(ctx, other); !errors.Is(err, sign.ErrNotSigned) {
				t.Fatalf("other image: %v", err)
			}
			_, otherChain := testCA(t, "stranger")
			v2, _ := sign.NewNotationVerifier(otherChain[1:])
			if err := v2.Verify(ctx, target); !errors.Is(err, sign.ErrBadSignature) {
				t.Fatalf("untrusted root: %v", err)
			}

			// The target's genuine signature, copied as a referrer of
			// another image, does not sign that image.
			refs, err := sign.Referrers(ctx, target, sign.NotationArtifactType)
			if err != nil || len(refs) != 1 {
				t.Fatalf("notation referrers: %v %v", refs, err)
			}
			env := bundleLayer(t, target, refs[0].Digest)
			copied := sign.Artifact{
				ConfigMediaType: sign.NotationArtifactType, Config: []byte("{}"),
				Blobs:   []sign.Blob{{MediaType: types.MediaType(s.MediaType), Data: env}},
				Subject: &other.Descriptor,
			}
			if _, err := copied.Push(ctx, other); err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(ctx, other); !errors.Is(err, sign.ErrBadSignature) {
				t.Fatalf("copied signature: %v", err)
			}
			// The JWS payload edited to name the other image fails the
			// integrity check.
			if !tc.cose {
				third := pushTarget(t, host, "app")
				var jwsEnv map[string]any
				if err := json.Unmarshal(env, &jwsEnv); err != nil {
					t.Fatal(err)
				}
				payload, err := base64.RawURLEncoding.DecodeString(jwsEnv["payload"].(string))
				if err != nil {
					t.Fatal(err)
				}
				edited := strings.ReplaceAll(string(payload), target.Descriptor.Digest.String(), third.Descriptor.Digest.String())
				if edited == string(payload) {
					t.Fatalf("payload does not name the target: %s", payload)
				}
				edited = strings.ReplaceAll(edited, fmt.Sprint(target.Descriptor.Size), fmt.Sprint(third.Descriptor.Size))
				jwsEnv["payload"] = base64.RawURLEncoding.EncodeToString([]byte(edited))
				copied.Blobs[0].Data, _ = json.Marshal(jwsEnv)
				copied.Subject = &third.Descriptor
				if _, err := copied.Push(ctx, third); err != nil {
					t.Fatal(err)
				}
				err = v.Verify(ctx, third)
				if !errors.Is(err, sign.ErrBadSignature) {
					t.Fatalf("edited payload: %v", err)
				}
				t.Log(err)
			}

			// notation-go's own Verify, reading the registry through oras
			// (the referrers API, or the tag schema without it).
			repo, err := remote.NewRepository(target.Repo.Name())
			if err != nil {
				t.Fatal(err)
			}
			repo.PlainHTTP = true
			nv := notationVerifierFromDir(t, chain[1])
			desc, outcomes, err := notation.Verify(ctx, nv, nregistry.NewRepository(repo), notation.VerifyOptions{
				ArtifactReference:    target.String(),
				MaxSignatureAttempts: 10,
			})
			if err != nil {
				t.Fatalf("notation.Verify: %v", err)
			}
			if desc.Digest.String() != target.Descriptor.Digest.String() || len(outcomes) != 1 {
				t.Fatalf("notation.Verify: %v, %d outcomes", desc.Digest, len(outcomes))
			}
			// Another image has no signature for notation-go either.
			if _, _, err := notation.Verify(ctx, nv, nregistry.NewRepository(repo), notation.VerifyOptions{
				ArtifactReference: other.String(), MaxSignatureAttempts: 10,
			}); err == nil {
				t.Fatal("notation.Verify accepted an unsigned image")
			}
		})
	}
}
