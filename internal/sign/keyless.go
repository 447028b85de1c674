package sign

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
)

// Public Sigstore instances, the defaults of KeylessOptions.
const (
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
	DefaultRekorURL  = "https://rekor.sigstore.dev"
)

// KeylessOptions configure keyless cosign signatures: an ephemeral key,
// certified by Fulcio for the identity of an OIDC token, the signature
// logged in Rekor. Configurable, but not tested here: it needs those
// services and an identity.
type KeylessOptions struct {
	// FulcioURL and RekorURL default to the public instances.
	FulcioURL, RekorURL string
	// IDTokenFile holds the OIDC token; it is read for every signature,
	// so a projected (rotated) workload identity token works.
	IDTokenFile string
}

// KeylessSigner writes keyless cosign signatures: the sigstore bundle
// referrer only (no .sig tag). Verify them with cosign verify
// --certificate-identity … --certificate-oidc-issuer …; Patchloop's
// verifier trusts keys only.
type KeylessSigner struct {
	opts KeylessOptions
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewKeylessSigner checks the options.
func NewKeylessSigner(o KeylessOptions) (*KeylessSigner, error) {
	if o.FulcioURL == "" {
		o.FulcioURL = DefaultFulcioURL
	}
	if o.RekorURL == "" {
		o.RekorURL = DefaultRekorURL
	}
	for _, u := range []string{o.FulcioURL, o.RekorURL} {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			return nil, fmt.Errorf("keyless signing: %q is not an https URL", u)
		}
	}
	if o.IDTokenFile == "" {
		return nil, errors.New("keyless signing: no OIDC token file")
	}
	return &KeylessSigner{opts: o}, nil
}

// Scheme is "cosign".
func (s *KeylessSigner) Scheme() string { return "cosign" }

// Sign gets a certificate from Fulcio, signs t, logs the signature in
// Rekor and pushes the bundle as t's referrer.
func (s *KeylessSigner) Sign(ctx context.Context, t Target) error {
	tok, err := os.ReadFile(s.opts.IDTokenFile)
	if err != nil {
		return fmt.Errorf("keyless signing: OIDC token: %w", err)
	}
	token := strings.TrimSpace(string(tok))
	if token == "" {
		return fmt.Errorf("keyless signing: OIDC token file %s is empty", s.opts.IDTokenFile)
	}
	kp, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		return err
	}
	b, err := bundleFor(ctx, t, kp, sgsign.BundleOptions{
		CertificateProvider:        sgsign.NewFulcio(&sgsign.FulcioOptions{BaseURL: s.opts.FulcioURL, Retries: 1}),
		CertificateProviderOptions: &sgsign.CertificateProviderOptions{IDToken: token},
		TransparencyLogs:           []sgsign.Transparency{sgsign.NewRekor(&sgsign.RekorOptions{BaseURL: s.opts.RekorURL, Retries: 1})},
	})
	if err != nil {
		return fmt.Errorf("keyless signing (Fulcio %s, Rekor %s): %w", s.opts.FulcioURL, s.opts.RekorURL, err)
	}
	return pushBundle(ctx, t, b, s.Now)
}
