// Package sign signs patched images and what Patchloop attaches to them,
// and verifies those signatures: cosign-compatible signatures (a sigstore
// bundle as an OCI 1.1 referrer, and cosign's sha256-<hex>.sig tag) and
// Notary Project signatures (notation's referrer). Attachments (OpenVEX,
// SBOMs, scan reports) are OCI artifacts whose subject is the image.
package sign

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Errors a Verifier wraps, for errors.Is.
var (
	// ErrNotSigned: no signature of the scheme refers to the manifest.
	ErrNotSigned = errors.New("not signed")
	// ErrBadSignature: signatures exist, but none verifies with the
	// trusted keys for this manifest's digest.
	ErrBadSignature = errors.New("no signature verifies")
	// ErrOtherSubject: a manifest listed as a referrer of one manifest
	// has another subject.
	ErrOtherSubject = errors.New("listed as a referrer, but its subject is another manifest")
)

// Target is a manifest in a registry that signatures and attachments
// refer to.
type Target struct {
	// Repo is the repository holding the manifest.
	Repo name.Repository
	// Descriptor is the manifest's media type, size and digest.
	Descriptor v1.Descriptor
	// Options carry the registry's credentials and transport (see
	// registry.Client.Options); the context is passed per call.
	Options []remote.Option
}

// Digest is the manifest's reference by digest.
func (t Target) Digest() name.Digest {
	return t.Repo.Digest(t.Descriptor.Digest.String())
}

// String is repo@digest.
func (t Target) String() string { return t.Digest().String() }

// opts returns the registry options with ctx.
func (t Target) opts(ctx context.Context) []remote.Option {
	return append(append([]remote.Option{}, t.Options...), remote.WithContext(ctx))
}

// Signer signs manifests in a registry, writing its signatures next to
// them.
type Signer interface {
	// Scheme names the signature format: "cosign" or "notation".
	Scheme() string
	// Sign signs the target's manifest and pushes the signature.
	Sign(ctx context.Context, t Target) error
}

// Verifier checks the signatures of one scheme on a manifest.
type Verifier interface {
	// Scheme names the signature format: "cosign" or "notation".
	Scheme() string
	// Verify returns nil when some signature of the scheme on the
	// target verifies with the trusted keys, and otherwise an error
	// wrapping ErrNotSigned or ErrBadSignature.
	Verify(ctx context.Context, t Target) error
}

// SignAll signs t with every signer, stopping at the first error.
func SignAll(ctx context.Context, signers []Signer, t Target) error {
	for _, s := range signers {
		if err := s.Sign(ctx, t); err != nil {
			return fmt.Errorf("%s signature of %s: %w", s.Scheme(), t, err)
		}
	}
	return nil
}

// VerifyAny returns nil when one of the verifiers accepts t; otherwise
// an error naming every verifier's reason (wrapping ErrBadSignature when
// any signature was found but failed, else ErrNotSigned).
func VerifyAny(ctx context.Context, verifiers []Verifier, t Target) error {
	if len(verifiers) == 0 {
		return errors.New("verify: no trusted key or certificate configured")
	}
	var errs []error
	for _, v := range verifiers {
		err := v.Verify(ctx, t)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", v.Scheme(), err))
	}
	return errors.Join(errs...)
}

// Ensurer is a Signer that can tell whether a manifest already carries
// its signature, so that a retried publish signs only what is missing.
type Ensurer interface {
	// Ensure signs t unless a signature of this signer's key already
	// verifies for it.
	Ensure(ctx context.Context, t Target) error
}

// VerifierOf returns a Verifier trusting what s signs with (its public
// key, or the root of its certificate chain); false for signers whose
// key is not known ahead (keyless).
func VerifierOf(s Signer) (Verifier, bool) {
	switch s := s.(type) {
	case *CosignSigner:
		v, err := NewCosignVerifier(s.key.Public())
		return v, err == nil
	case *NotationSigner:
		if len(s.chain) == 0 {
			return nil, false
		}
		v, err := NewNotationVerifier(s.chain[len(s.chain)-1:])
		return v, err == nil
	}
	if v, ok := s.(interface{ Verifier() (Verifier, bool) }); ok {
		return v.Verifier()
	}
	return nil, false
}

// EnsureAll signs t with every signer whose signature t does not carry
// yet (Ensurer); signers that cannot tell sign again. Stops at the first
// error.
func EnsureAll(ctx context.Context, signers []Signer, t Target) error {
	for _, s := range signers {
		var err error
		if e, ok := s.(Ensurer); ok {
			err = e.Ensure(ctx, t)
		} else {
			err = s.Sign(ctx, t)
		}
		if err != nil {
			return fmt.Errorf("%s signature of %s: %w", s.Scheme(), t, err)
		}
	}
	return nil
}

// SignedByAll reports whether t carries a verifying signature of every
// signer; false when a signer's key is not known ahead.
func SignedByAll(ctx context.Context, signers []Signer, t Target) (bool, error) {
	for _, s := range signers {
		v, ok := VerifierOf(s)
		if !ok {
			return false, nil
		}
		err := v.Verify(ctx, t)
		switch {
		case errors.Is(err, ErrNotSigned) || errors.Is(err, ErrBadSignature):
			return false, nil
		case err != nil:
			return false, err
		}
	}
	return true, nil
}
