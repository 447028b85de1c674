package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/sign"
)

// envCosignPassword holds the password of a cosign key file, as cosign
// reads it.
const envCosignPassword = "COSIGN_PASSWORD"

// signFlags are the signing flags of patch and serve (docs/signing.md).
type signFlags struct {
	cosignKey    string
	notationKey  string
	notationCert string
	attach       bool
	// Keyless (Fulcio/Rekor): configurable, not tested here.
	oidcTokenFile string
	fulcioURL     string
	rekorURL      string
	// The verify-before-patch policy.
	requireKeys  []string
	requireCerts []string
}

// register adds the flags to cmd.
func (f *signFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.cosignKey, "cosign-key", "", "sign patched images with this key, cosign-compatible: a cosign key file (password from $"+envCosignPassword+") or a PKCS#8 PEM private key (ECDSA P-256/384/521, RSA, Ed25519)")
	fl.StringVar(&f.notationKey, "notation-key", "", "sign patched images with Notary Project signatures: this PKCS#8 PEM private key (with --notation-cert)")
	fl.StringVar(&f.notationCert, "notation-cert", "", "the PEM certificate chain of --notation-key, leaf first")
	fl.StringVar(&f.oidcTokenFile, "cosign-oidc-token-file", "", "sign keyless instead: an ephemeral key certified by Fulcio for this OIDC token (read for every signature), logged in Rekor (untested here; see docs/signing.md)")
	fl.StringVar(&f.fulcioURL, "fulcio-url", sign.DefaultFulcioURL, "Fulcio of keyless signing (--cosign-oidc-token-file)")
	fl.StringVar(&f.rekorURL, "rekor-url", sign.DefaultRekorURL, "Rekor of keyless signing (--cosign-oidc-token-file)")
	fl.BoolVar(&f.attach, "attach", false, "attach the OpenVEX document, SBOMs (SPDX, CycloneDX) and scan reports to every patched image as OCI referrers (signed when a key is given)")
	fl.StringArrayVar(&f.requireKeys, "require-signature-key", nil, "verify-before-patch: patch only originals with a cosign signature by this public key (PEM; repeatable, any one suffices)")
	fl.StringArrayVar(&f.requireCerts, "require-signature-cert", nil, "verify-before-patch: patch only originals with a Notary Project signature chaining to this root certificate (PEM; repeatable)")
}

// signers loads the configured signing keys, warning on warn about key
// files other users can read.
func (f *signFlags) signers(warn io.Writer) ([]sign.Signer, error) {
	var out []sign.Signer
	warnKeyPermissions(warn, "--cosign-key", f.cosignKey)
	warnKeyPermissions(warn, "--notation-key", f.notationKey)
	if f.cosignKey != "" {
		key, err := sign.LoadPrivateKey(f.cosignKey, []byte(os.Getenv(envCosignPassword)))
		if err != nil {
			return nil, usagef("--cosign-key: %v", err)
		}
		s, err := sign.NewCosignSigner(key)
		if err != nil {
			return nil, usagef("--cosign-key %s: %v", f.cosignKey, err)
		}
		out = append(out, s)
	}
	if f.oidcTokenFile != "" {
		if f.cosignKey != "" {
			return nil, usagef("--cosign-key and --cosign-oidc-token-file are two ways of making cosign signatures: give one")
		}
		s, err := sign.NewKeylessSigner(sign.KeylessOptions{FulcioURL: f.fulcioURL, RekorURL: f.rekorURL, IDTokenFile: f.oidcTokenFile})
		if err != nil {
			return nil, usagef("--cosign-oidc-token-file: %v", err)
		}
		out = append(out, s)
	}
	if (f.notationKey == "") != (f.notationCert == "") {
		return nil, usagef("--notation-key and --notation-cert go together: the key signs, the certificate chain names it")
	}
	if f.notationKey != "" {
		s, err := sign.LoadNotationSigner(f.notationKey, f.notationCert)
		if err != nil {
			return nil, usagef("--notation-key: %v", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// verifiers loads the trusted keys and certificates of the
// verify-before-patch policy; none means no policy.
func (f *signFlags) verifiers() ([]sign.Verifier, error) {
	return loadVerifiers(f.requireKeys, f.requireCerts, "--require-signature-key", "--require-signature-cert")
}

// loadVerifiers builds a verifier per cosign public key and one for the
// Notary Project root certificates.
func loadVerifiers(keys, certs []string, keyFlag, certFlag string) ([]sign.Verifier, error) {
	var out []sign.Verifier
	for _, p := range keys {
		pub, err := sign.LoadPublicKey(p)
		if err != nil {
			return nil, usagef("%s: %v", keyFlag, err)
		}
		v, err := sign.NewCosignVerifier(pub)
		if err != nil {
			return nil, usagef("%s %s: %v", keyFlag, p, err)
		}
		out = append(out, v)
	}
	if len(certs) > 0 {
		v, err := sign.LoadNotationVerifier(certs)
		if err != nil {
			return nil, usagef("%s: %v", certFlag, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// warnKeyPermissions warns, as ssh does (without refusing), when a
// private key file is readable or writable by other users than its owner.
func warnKeyPermissions(w io.Writer, flag, path string) {
	if path == "" || w == nil || runtime.GOOS == "windows" {
		return
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return
	}
	fmt.Fprintf(w, "Warning: %s %s is accessible by other users (mode %04o): restrict it with `chmod 600 %s`\n", flag, path, st.Mode().Perm(), path)
}
