package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/patchloop/patchloop/internal/registry"
)

// The formats of cosign's signatures.
const (
	// BundleMediaType is the sigstore bundle v0.3, as layer media type and
	// artifactType of cosign's referrer.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// CosignPredicateType is the in-toto predicate of cosign's image
	// signatures (an empty predicate over the manifest digest).
	CosignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// inTotoPayloadType is the DSSE payload type of in-toto statements.
	inTotoPayloadType = "application/vnd.in-toto+json"
	inTotoStatement   = "https://in-toto.io/Statement/v1"
	// Annotations of cosign's bundle referrer.
	annBundleContent   = "dev.sigstore.bundle.content"
	annBundlePredicate = "dev.sigstore.bundle.predicateType"
	annCreated         = "org.opencontainers.image.created"
	// SimpleSigningMediaType is the layer media type of cosign's legacy
	// signatures (sha256-<hex>.sig tags).
	SimpleSigningMediaType types.MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// AnnotationCosignSignature holds a legacy signature (base64).
	AnnotationCosignSignature = "dev.cosignproject.cosign/signature"
	simpleSigningType         = "cosign container image signature"
)

// CosignSigner writes cosign-compatible signatures made with a key: a
// sigstore bundle (DSSE envelope of an in-toto statement with cosign's
// sign predicate) pushed as an OCI 1.1 referrer of the manifest, and,
// unless BundleOnly, a simple-signing signature in the manifest's
// sha256-<hex>.sig tag, which cosign v2 and admission controllers on
// registries without the referrers API read. No transparency log entry
// is written: verifiers must be told to skip the log (cosign
// --insecure-ignore-tlog).
type CosignSigner struct {
	key crypto.Signer
	alg signature.AlgorithmDetails
	// BundleOnly skips the .sig tag.
	BundleOnly bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewCosignSigner returns a signer with key (see LoadPrivateKey).
func NewCosignSigner(key crypto.Signer) (*CosignSigner, error) {
	alg, err := algorithmOf(key.Public())
	if err != nil {
		return nil, err
	}
	return &CosignSigner{key: key, alg: alg}, nil
}

// Scheme is "cosign".
func (s *CosignSigner) Scheme() string { return "cosign" }

// Sign pushes the bundle referrer and the .sig tag of t.
func (s *CosignSigner) Sign(ctx context.Context, t Target) error {
	b, err := s.Bundle(ctx, t)
	if err != nil {
		return err
	}
	if err := pushBundle(ctx, t, b, s.Now); err != nil {
		return err
	}
	if s.BundleOnly {
		return nil
	}
	return s.signTag(ctx, t)
}

// Ensure pushes the bundle referrer and the .sig tag signature of t
// that are not there yet: a bundle referrer or a .sig layer that already
// verifies with this signer's key is kept, and not written again.
func (s *CosignSigner) Ensure(ctx context.Context, t Target) error {
	v, err := NewCosignVerifier(s.key.Public())
	if err != nil {
		return err
	}
	has, err := v.hasBundle(ctx, t)
	if err != nil {
		return err
	}
	if !has {
		b, err := s.Bundle(ctx, t)
		if err != nil {
			return err
		}
		if err := pushBundle(ctx, t, b, s.Now); err != nil {
			return err
		}
	}
	if s.BundleOnly {
		return nil
	}
	blobs, err := existingSignatures(ctx, t, SigTag(t))
	if err != nil {
		return err
	}
	for i, b := range blobs {
		if i < maxTries && v.verifySimpleSigning(t, b) == nil {
			return nil
		}
	}
	return s.signTag(ctx, t)
}

// pushBundle pushes a bundle as cosign's referrer of t.
func pushBundle(ctx context.Context, t Target, b []byte, now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	art := Artifact{
		ArtifactType: BundleMediaType,
		Blobs:        []Blob{{MediaType: BundleMediaType, Data: b}},
		Annotations: map[string]string{
			annBundleContent:   "dsse-envelope",
			annBundlePredicate: CosignPredicateType,
			annCreated:         now().UTC().Format(time.RFC3339),
		},
		Subject: &v1.Descriptor{MediaType: t.Descriptor.MediaType, Size: t.Descriptor.Size, Digest: t.Descriptor.Digest},
	}
	_, err := art.Push(ctx, t)
	return err
}

// Bundle returns the JSON sigstore bundle signing t's digest.
func (s *CosignSigner) Bundle(ctx context.Context, t Target) ([]byte, error) {
	return bundleFor(ctx, t, &keypair{key: s.key, alg: s.alg}, sgsign.BundleOptions{Context: ctx})
}

// bundleFor signs cosign's statement about t with kp.
func bundleFor(ctx context.Context, t Target, kp sgsign.Keypair, opts sgsign.BundleOptions) ([]byte, error) {
	if t.Descriptor.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("%s: only sha256 digests are signed", t)
	}
	stmt, err := json.Marshal(statement{
		Type:          inTotoStatement,
		Subject:       []statementSubject{{Name: t.Repo.Name(), Digest: map[string]string{"sha256": t.Descriptor.Digest.Hex}}},
		PredicateType: CosignPredicateType,
		Predicate:     map[string]any{},
	})
	if err != nil {
		return nil, err
	}
	opts.Context = ctx
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: stmt, PayloadType: inTotoPayloadType}, kp, opts)
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", t, err)
	}
	return protojson.Marshal(pb)
}

// statement is an in-toto v1 statement.
type statement struct {
	Type          string             `json:"_type"`
	Subject       []statementSubject `json:"subject"`
	PredicateType string             `json:"predicateType"`
	Predicate     map[string]any     `json:"predicate"`
}

type statementSubject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// simpleSigning is cosign's legacy payload.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// SigTag is cosign's legacy signature tag of a manifest:
// sha256-<hex>.sig.
func SigTag(t Target) name.Tag {
	return t.Repo.Tag(strings.Replace(t.Descriptor.Digest.String(), ":", "-", 1) + ".sig")
}

// signTag adds a simple-signing signature to t's .sig tag, keeping the
// signatures of other keys already there.
func (s *CosignSigner) signTag(ctx context.Context, t Target) error {
	var p simpleSigning
	p.Critical.Identity.DockerReference = t.Repo.Name()
	p.Critical.Image.DockerManifestDigest = t.Descriptor.Digest.String()
	p.Critical.Type = simpleSigningType
	payload, err := json.Marshal(p)
	if err != nil {
		return err
	}
	sig, err := signPayload(s.key, s.alg, payload)
	if err != nil {
		return fmt.Errorf("signing %s: %w", t, err)
	}
	mine := Blob{MediaType: SimpleSigningMediaType, Data: payload, Annotations: map[string]string{AnnotationCosignSignature: base64.StdEncoding.EncodeToString(sig)}}
	tag := SigTag(t)
	blobs, err := existingSignatures(ctx, t, tag)
	if err != nil {
		return err
	}
	verifier, err := signature.LoadDefaultVerifier(s.key.Public())
	if err != nil {
		return err
	}
	var keep []Blob
	for _, b := range blobs {
		// A signature of ours over the same payload (an earlier attempt)
		// is replaced; other keys' stay.
		if bytes.Equal(b.Data, payload) && verifyLegacy(verifier, b) == nil {
			continue
		}
		keep = append(keep, b)
	}
	keep = append(keep, mine)
	art := Artifact{ConfigMediaType: types.OCIConfigJSON, Blobs: keep}
	cfg, err := sigConfig(keep)
	if err != nil {
		return err
	}
	art.Config = cfg
	img, err := art.Image()
	if err != nil {
		return err
	}
	if err := remote.Write(tag, img, t.opts(ctx)...); err != nil {
		return fmt.Errorf("push %s: %w", tag, err)
	}
	return nil
}

// sigConfig is the image config of a .sig manifest: one diff_id per
// signature layer, as cosign writes it.
func sigConfig(blobs []Blob) ([]byte, error) {
	cfg := v1.ConfigFile{RootFS: v1.RootFS{Type: "layers"}}
	for _, b := range blobs {
		h, _, err := v1.SHA256(bytes.NewReader(b.Data))
		if err != nil {
			return nil, err
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, h)
	}
	return json.Marshal(cfg)
}

// existingSignatures reads the simple-signing layers of a .sig tag; none
// when the tag does not exist.
func existingSignatures(ctx context.Context, t Target, tag name.Tag) ([]Blob, error) {
	img, err := remote.Image(tag, t.opts(ctx)...)
	if registry.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", tag, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", tag, err)
	}
	if len(m.Layers) > maxSigLayers {
		return nil, fmt.Errorf("read %s: %d signatures, over the limit of %d", tag, len(m.Layers), maxSigLayers)
	}
	var out []Blob
	for _, l := range m.Layers {
		if l.MediaType != SimpleSigningMediaType {
			continue
		}
		data, err := readBlob(img, l)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", tag, err)
		}
		out = append(out, Blob{MediaType: l.MediaType, Data: data, Annotations: l.Annotations})
	}
	return out, nil
}

// signPayload signs data as cosign does: the algorithm's hash of the
// data (pure Ed25519 over the data itself).
func signPayload(key crypto.Signer, alg signature.AlgorithmDetails, data []byte) ([]byte, error) {
	hf := alg.GetHashType()
	msg := data
	if hf != crypto.Hash(0) {
		h := hf.New()
		h.Write(data)
		msg = h.Sum(nil)
	}
	return key.Sign(rand.Reader, msg, hf)
}

// verifyLegacy checks one simple-signing layer's signature.
func verifyLegacy(v signature.Verifier, b Blob) error {
	sig, err := base64.StdEncoding.DecodeString(b.Annotations[AnnotationCosignSignature])
	if err != nil || len(sig) == 0 {
		return errors.New("no signature annotation")
	}
	return v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(b.Data))
}

// keypair adapts a crypto.Signer to sigstore-go's sign.Keypair.
type keypair struct {
	key crypto.Signer
	alg signature.AlgorithmDetails
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return k.alg.GetProtoHashType() }
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.alg.GetSignatureAlgorithm()
}
func (k *keypair) GetHint() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.key.Public())
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(der)
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}
func (k *keypair) GetKeyAlgorithm() string {
	switch k.alg.GetKeyType() {
	case signature.ECDSA:
		return "ECDSA"
	case signature.RSA:
		return "RSA"
	case signature.ED25519:
		return "ED25519"
	}
	return ""
}
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.key.Public() }
func (k *keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.key.Public())
	return string(b), err
}
func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	hf := k.alg.GetHashType()
	msg := data
	if hf != crypto.Hash(0) {
		h := hf.New()
		h.Write(data)
		msg = h.Sum(nil)
	}
	sig, err := k.key.Sign(rand.Reader, msg, hf)
	return sig, msg, err
}

// CosignVerifier checks cosign signatures made with one public key: a
// bundle referrer (verified with sigstore-go: DSSE signature, in-toto
// subject digest, cosign's sign predicate) or a signature in the .sig
// tag (payload signature, docker-manifest-digest). Transparency log
// entries are not required.
type CosignVerifier struct {
	pub      crypto.PublicKey
	verifier signature.Verifier
}

// NewCosignVerifier returns a verifier trusting pub (see LoadPublicKey).
func NewCosignVerifier(pub crypto.PublicKey) (*CosignVerifier, error) {
	if _, err := algorithmOf(pub); err != nil {
		return nil, err
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, err
	}
	return &CosignVerifier{pub: pub, verifier: v}, nil
}

// Scheme is "cosign".
func (v *CosignVerifier) Scheme() string { return "cosign" }

// Verify accepts t when a bundle referrer or a .sig tag signature
// verifies.
func (v *CosignVerifier) Verify(ctx context.Context, t Target) error {
	var reasons []string
	found := false
	refs, err := Referrers(ctx, t, BundleMediaType)
	if err != nil {
		return err
	}
	for i, d := range refs {
		found = true
		if i == maxTries {
			reasons = append(reasons, fmt.Sprintf("%d more bundles not tried", len(refs)-i))
			break
		}
		err := v.verifyBundleReferrer(ctx, t, d.Digest)
		if err == nil {
			return nil
		}
		reasons = append(reasons, fmt.Sprintf("bundle %s: %v", d.Digest, err))
	}
	blobs, err := existingSignatures(ctx, t, SigTag(t))
	if err != nil {
		return err
	}
	for i, b := range blobs {
		found = true
		if i == maxTries {
			reasons = append(reasons, fmt.Sprintf("%d more .sig layers not tried", len(blobs)-i))
			break
		}
		err := v.verifySimpleSigning(t, b)
		if err == nil {
			return nil
		}
		reasons = append(reasons, fmt.Sprintf("%s layer %d: %v", SigTag(t).TagStr(), i, err))
	}
	if !found {
		return fmt.Errorf("%s: %w (no sigstore bundle referrer, no %s tag)", t, ErrNotSigned, SigTag(t).TagStr())
	}
	return fmt.Errorf("%s: %w: %s", t, ErrBadSignature, strings.Join(reasons, "; "))
}

// hasBundle reports whether one of t's bundle referrers verifies.
func (v *CosignVerifier) hasBundle(ctx context.Context, t Target) (bool, error) {
	refs, err := Referrers(ctx, t, BundleMediaType)
	if err != nil {
		return false, err
	}
	for i, d := range refs {
		if i == maxTries {
			break
		}
		if v.verifyBundleReferrer(ctx, t, d.Digest) == nil {
			return true, nil
		}
	}
	return false, nil
}

// verifyBundleReferrer reads one bundle referrer and verifies it.
func (v *CosignVerifier) verifyBundleReferrer(ctx context.Context, t Target, d v1.Hash) error {
	m, img, err := fetchManifest(ctx, t, d)
	if err != nil {
		return err
	}
	if m.Subject == nil || m.Subject.Digest != t.Descriptor.Digest {
		return errors.New("its subject is another manifest")
	}
	for _, l := range m.Layers {
		if l.MediaType != BundleMediaType {
			continue
		}
		data, err := readBlob(img, l)
		if err != nil {
			return err
		}
		return VerifyBundle(data, v.pub, t.Descriptor.Digest)
	}
	return errors.New("no bundle layer")
}

// VerifyBundle verifies a JSON sigstore bundle with sigstore-go: signed
// by pub, its in-toto subject is digest, its predicate is cosign's
// signature predicate.
func VerifyBundle(data []byte, pub crypto.PublicKey, digest v1.Hash) error {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("parsing the bundle: %w", err)
	}
	sv, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return err
	}
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(sv, time.Time{}, time.Time{}), nil
	})
	vf, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		return err
	}
	want, err := hex.DecodeString(digest.Hex)
	if err != nil {
		return fmt.Errorf("digest %s: %w", digest, err)
	}
	res, err := vf.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest(digest.Algorithm, want), verify.WithKey()))
	if err != nil {
		return err
	}
	if res.Statement == nil || res.Statement.GetPredicateType() != CosignPredicateType {
		return fmt.Errorf("the bundle is not a cosign signature (predicate type is not %s)", CosignPredicateType)
	}
	return nil
}

// verifySimpleSigning checks one legacy signature: the key's signature
// over the payload, which names t's digest.
func (v *CosignVerifier) verifySimpleSigning(t Target, b Blob) error {
	if err := verifyLegacy(v.verifier, b); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	var p simpleSigning
	if err := json.Unmarshal(b.Data, &p); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if p.Critical.Image.DockerManifestDigest != t.Descriptor.Digest.String() {
		return fmt.Errorf("the payload signs %s", p.Critical.Image.DockerManifestDigest)
	}
	if p.Critical.Type != simpleSigningType {
		return fmt.Errorf("payload type %q", p.Critical.Type)
	}
	return nil
}
