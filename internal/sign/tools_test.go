package sign_test

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
			cmd = exec.CommandContext(ctx, bin, append(args, unsigned.String())...)
			cmd.Env = append(os.Environ(), "TUF_ROOT="+filepath.Join(dir, "tuf"))
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Errorf("referrers API %v, %s: cosign verified an unsigned image:\n%s", referrers, format, out)
			}
		}
	}
}
