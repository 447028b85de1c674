package sign

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	nsigner "github.com/notaryproject/notation-go/signer"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The Notary Project signature format (notation's).
const (
	// NotationArtifactType is the config media type (and so the artifact
	// type) of a Notary Project signature manifest.
	NotationArtifactType = "application/vnd.cncf.notary.signature"
	// annThumbprints lists the SHA-256 of each certificate of the chain.
	annThumbprints = "io.cncf.notary.x509chain.thumbprint#S256"
	// trustStoreName is the one named trust store of NotationVerifier.
	trustStoreName = "patchloop"
)

// NotationSigner writes Notary Project signatures with a local key and
// its certificate chain: a JWS (or COSE) envelope as an OCI 1.1 referrer
// of the manifest, as `notation sign` writes it.
type NotationSigner struct {
	signer *nsigner.GenericSigner
	chain  []*x509.Certificate
	// MediaType is the envelope format: jws.MediaTypeEnvelope
	// (application/jose+json, the default) or cose.MediaTypeEnvelope.
	MediaType string
}

// LoadNotationSigner reads a private key (as LoadPrivateKey, without a
// password) and a PEM certificate chain, leaf first.
func LoadNotationSigner(keyPath, certPath string) (*NotationSigner, error) {
	key, err := LoadPrivateKey(keyPath, nil)
	if err != nil {
		return nil, err
	}
	chain, err := loadCertificates(certPath)
	if err != nil {
		return nil, err
	}
	return NewNotationSigner(key, chain)
}

// NewNotationSigner returns a signer with key and its certificate chain
// (leaf first, ending at or before the root).
func NewNotationSigner(key any, chain []*x509.Certificate) (*NotationSigner, error) {
	s, err := nsigner.NewGenericSigner(key, chain)
	if err != nil {
		return nil, fmt.Errorf("notation signer: %w", err)
	}
	return &NotationSigner{signer: s, chain: chain, MediaType: jws.MediaTypeEnvelope}, nil
}

// Scheme is "notation".
func (s *NotationSigner) Scheme() string { return "notation" }

// Sign pushes a Notary Project signature of t as its referrer.
func (s *NotationSigner) Sign(ctx context.Context, t Target) error {
	env, info, err := s.signer.Sign(ctx, ociDescriptor(t.Descriptor), notation.SignerSignOptions{SignatureMediaType: s.MediaType})
	if err != nil {
		return fmt.Errorf("signing %s: %w", t, err)
	}
	var prints []string
	for _, c := range info.CertificateChain {
		sum := sha256.Sum256(c.Raw)
		prints = append(prints, hex.EncodeToString(sum[:]))
	}
	thumbs, err := json.Marshal(prints)
	if err != nil {
		return err
	}
	art := Artifact{
		ConfigMediaType: NotationArtifactType,
		Config:          emptyJSON,
		Blobs:           []Blob{{MediaType: types.MediaType(s.MediaType), Data: env}},
		Annotations: map[string]string{
			annThumbprints: string(thumbs),
			annCreated:     info.SignedAttributes.SigningTime.UTC().Format(time.RFC3339),
		},
		Subject: &v1.Descriptor{MediaType: t.Descriptor.MediaType, Size: t.Descriptor.Size, Digest: t.Descriptor.Digest},
	}
	_, err = art.Push(ctx, t)
	return err
}

// Ensure signs t unless one of its Notary Project signatures already
// verifies with the root of this signer's chain.
func (s *NotationSigner) Ensure(ctx context.Context, t Target) error {
	if v, ok := VerifierOf(s); ok {
		err := v.Verify(ctx, t)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, ErrNotSigned) && !errors.Is(err, ErrBadSignature):
			return err
		}
	}
	return s.Sign(ctx, t)
}

// ociDescriptor is the OCI descriptor notation signs: media type, digest
// and size of the manifest.
func ociDescriptor(d v1.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: string(d.MediaType), Digest: digest.Digest(d.Digest.String()), Size: d.Size}
}

// NotationVerifier checks Notary Project signatures with notation-go's
// verifier: a trust policy of "strict" level for every registry, trusting
// any identity whose chain ends at one of the root certificates given.
// Revocation is not checked (no OCSP or CRL requests leave the host).
type NotationVerifier struct {
	v notation.Verifier
}

// LoadNotationVerifier reads the trusted root certificates (PEM files).
func LoadNotationVerifier(paths []string) (*NotationVerifier, error) {
	var roots []*x509.Certificate
	for _, p := range paths {
		certs, err := loadCertificates(p)
		if err != nil {
			return nil, err
		}
		roots = append(roots, certs...)
	}
	return NewNotationVerifier(roots)
}

// NewNotationVerifier returns a verifier trusting roots.
func NewNotationVerifier(roots []*x509.Certificate) (*NotationVerifier, error) {
	if len(roots) == 0 {
		return nil, errors.New("notation verifier: no trusted certificate")
	}
	doc := &trustpolicy.Document{
		Version: "1.0",
		TrustPolicies: []trustpolicy.TrustPolicy{{
			Name:           "patchloop",
			RegistryScopes: []string{"*"},
			SignatureVerification: trustpolicy.SignatureVerification{
				VerificationLevel: trustpolicy.LevelStrict.Name,
				Override:          map[trustpolicy.ValidationType]trustpolicy.ValidationAction{trustpolicy.TypeRevocation: trustpolicy.ActionSkip},
			},
			TrustStores:       []string{string(truststore.TypeCA) + ":" + trustStoreName},
			TrustedIdentities: []string{"*"},
		}},
	}
	v, err := verifier.New(doc, memTrustStore{roots: roots}, nil)
	if err != nil {
		return nil, fmt.Errorf("notation verifier: %w", err)
	}
	return &NotationVerifier{v: v}, nil
}

// memTrustStore is a trust store of one named CA store, in memory.
type memTrustStore struct{ roots []*x509.Certificate }

func (m memTrustStore) GetCertificates(_ context.Context, typ truststore.Type, name string) ([]*x509.Certificate, error) {
	if typ != truststore.TypeCA || name != trustStoreName {
		return nil, fmt.Errorf("no trust store %s:%s", typ, name)
	}
	return m.roots, nil
}

// Scheme is "notation".
func (v *NotationVerifier) Scheme() string { return "notation" }

// Verify accepts t when one of its Notary Project signatures verifies.
func (v *NotationVerifier) Verify(ctx context.Context, t Target) error {
	refs, err := Referrers(ctx, t, NotationArtifactType)
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return fmt.Errorf("%s: %w (no Notary Project signature)", t, ErrNotSigned)
	}
	var reasons []string
	for i, d := range refs {
		if i == maxTries {
			reasons = append(reasons, fmt.Sprintf("%d more signatures not tried", len(refs)-i))
			break
		}
		err := v.verifyOne(ctx, t, d.Digest)
		if err == nil {
			return nil
		}
		reasons = append(reasons, fmt.Sprintf("signature %s: %v", d.Digest, err))
	}
	return fmt.Errorf("%s: %w: %s", t, ErrBadSignature, strings.Join(reasons, "; "))
}

// verifyOne reads one signature manifest and verifies its envelope.
func (v *NotationVerifier) verifyOne(ctx context.Context, t Target, d v1.Hash) error {
	m, img, err := fetchManifest(ctx, t, d)
	if err != nil {
		return err
	}
	if m.Subject == nil || m.Subject.Digest != t.Descriptor.Digest {
		return errors.New("its subject is another manifest")
	}
	if len(m.Layers) != 1 {
		return fmt.Errorf("%d envelope blobs, want 1", len(m.Layers))
	}
	l := m.Layers[0]
	if mt := string(l.MediaType); mt != jws.MediaTypeEnvelope && mt != cose.MediaTypeEnvelope {
		return fmt.Errorf("envelope media type %q", mt)
	}
	env, err := readBlob(img, l)
	if err != nil {
		return err
	}
	_, err = v.v.Verify(ctx, ociDescriptor(t.Descriptor), env, notation.VerifierVerifyOptions{
		ArtifactReference:  t.String(),
		SignatureMediaType: string(l.MediaType),
	})
	return err
}

// loadCertificates reads every CERTIFICATE block of a PEM file.
func loadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificates %s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("certificates %s: no PEM CERTIFICATE block", path)
	}
	return out, nil
}
