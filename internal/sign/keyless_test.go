package sign_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// TestKeylessConfig checks keyless options and that a signature fails
// with a clear error when Fulcio cannot certify (a loopback server that
// is not Fulcio); real keyless signing is not tested here.
func TestKeylessConfig(t *testing.T) {
	if _, err := sign.NewKeylessSigner(sign.KeylessOptions{}); err == nil {
		t.Fatal("no token file accepted")
	}
	if _, err := sign.NewKeylessSigner(sign.KeylessOptions{FulcioURL: "http://fulcio", IDTokenFile: "x"}); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("http Fulcio: %v", err)
	}
	fake := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	t.Cleanup(fake.Close)
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("eyJ.fake.token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeylessSigner(sign.KeylessOptions{FulcioURL: fake.URL, RekorURL: fake.URL, IDTokenFile: tok})
	if err != nil {
		t.Fatal(err)
	}
	host := registrytest.Start(t)
	target := pushTarget(t, host, "app")
	if err := s.Sign(context.Background(), target); err == nil || !strings.Contains(err.Error(), "keyless signing (Fulcio "+fake.URL) {
		t.Fatalf("sign: %v", err)
	}
	if refs, _ := sign.Referrers(context.Background(), target, ""); len(refs) != 0 {
		t.Fatalf("a failed keyless signature pushed %v", refs)
	}
}
