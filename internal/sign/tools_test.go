package sign_test

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// TestCosignBinary verifies Patchloop's cosign signatures with the cosign
// binary that $PATCHLOOP_COSIGN names (opt-in; see docs/signing.md for how
// to build it): the bundle referrer (cosign v3's default) and the .sig tag
// (--new-bundle-format=false), on a registry with and without the
// referrers API. Nothing leaves loopback unless cosign itself reaches out.
func TestCosignBinary(t *testing.T) {
	bin := os.Getenv("PATCHLOOP_COSIGN")
	if bin == "" {
		t.Skip("set PATCHLOOP_COSIGN to a cosign binary to run this test")
	}
	ctx := context.Background()
	dir := t.TempDir()
	key := ecKey(t)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, "cosign.pub")
	if err := os.WriteFile(pub, pemBlock("PUBLIC KEY", der), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := sign.NewCosignSigner(key)
	for _, referrers := range []bool{true, false} {
		host := registrytest.Start(t)
		if !referrers {
			host = registrytest.StartWith(t, noReferrers)
		}
		target := pushTarget(t, host, "app")
		if err := s.Sign(ctx, target); err != nil {
			t.Fatal(err)
		}
		unsigned := pushTarget(t, host, "app")
		for _, format := range []string{"--new-bundle-format=true", "--new-bundle-format=false"} {
			args := []string{"verify", "--key", pub, "--insecure-ignore-tlog=true", "--allow-http-registry", "--allow-insecure-registry", format}
			cmd := exec.CommandContext(ctx, bin, append(args, target.String())...)
			cmd.Env = append(os.Environ(), "TUF_ROOT="+filepath.Join(dir, "tuf"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("referrers API %v, %s: cosign verify failed: %v\n%s", referrers, format, err, out)
			}
			t.Logf("referrers API %v, %s: %s", referrers, format, out)
			cmd = exec.CommandContext(ctx, bin, append(args, unsigned.String())...)
			cmd.Env = append(os.Environ(), "TUF_ROOT="+filepath.Join(dir, "tuf"))
			out, err = cmd.CombinedOutput()
			if err == nil {
				t.Errorf("referrers API %v, %s: cosign verified an unsigned image:\n%s", referrers, format, out)
			}
			t.Logf("unsigned: %s", out)
		}
	}

	// An image cosign signed (with a cosign key file) verifies with
	// Patchloop's verifier, bundle and .sig tag alike.
	host := registrytest.Start(t)
	der8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encrypted.Encrypt(der8, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "cosign.key")
	if err := os.WriteFile(keyFile, pemBlock("ENCRYPTED SIGSTORE PRIVATE KEY", enc), 0o600); err != nil {
		t.Fatal(err)
	}
	v, _ := sign.NewCosignVerifier(key.Public())
	for _, format := range []string{"--new-bundle-format=true", "--new-bundle-format=false"} {
		target := pushTarget(t, host, "bycosign")
		cmd := exec.CommandContext(ctx, bin, "sign", "--key", keyFile, "--tlog-upload=false", "--use-signing-config=false", "--yes",
			"--allow-http-registry", "--allow-insecure-registry", format, target.String())
		cmd.Env = append(os.Environ(), "TUF_ROOT="+filepath.Join(dir, "tuf"), "COSIGN_PASSWORD=pw")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cosign sign %s: %v\n%s", format, err, out)
		}
		if err := v.Verify(ctx, target); err != nil {
			t.Errorf("cosign sign %s: Patchloop's verifier: %v", format, err)
		}
		other, _ := sign.NewCosignVerifier(ecKey(t).Public())
		if err := other.Verify(ctx, target); err == nil {
			t.Errorf("cosign sign %s: verified with another key", format)
		}
	}
}
