package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/patchloop/patchloop/internal/publish"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// TestVerifyHostileRegistry: `patchloop verify` of an unsigned image
// exits non-zero when the registry lists another image's genuine
// signatures as its referrers, and when it answers with a redirect loop.
func TestVerifyHostileRegistry(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	mode := ""
	var victim, signed string
	host := registrytest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			m, from, to := mode, victim, signed
			mu.Unlock()
			tagFrom := strings.Replace(from, ":", "-", 1)
			if m != "" && r.Method == http.MethodGet && (strings.HasSuffix(r.URL.Path, "/referrers/"+from) || strings.HasSuffix(r.URL.Path, "/manifests/"+tagFrom)) {
				if m == "redirect" {
					http.Redirect(w, r, r.URL.String(), http.StatusFound)
					return
				}
				r.URL.Path = strings.NewReplacer(from, to, tagFrom, strings.Replace(to, ":", "-", 1)).Replace(r.URL.Path)
				r.RequestURI = r.URL.RequestURI()
			}
			h.ServeHTTP(w, r)
		})
	})
	client := registry.New()
	repo, _ := name.NewRepository(host + "/app")
	push := func(tag string) string {
		img, _ := random.Image(64, 1)
		return registrytest.Push(t, host+"/app:"+tag, img).String()
	}
	victim, signed = push("1.0-1"), push("2.0")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := sign.NewCosignSigner(key)
	target, err := publish.Target(ctx, client, repo, signed)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sign(ctx, target); err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(key.Public())
	pub := writePEM(t, t.TempDir(), "cosign.pub", "PUBLIC KEY", pubDER)
	if code, out, errOut := run(t, "", "verify", host+"/app:2.0", "--cosign-key", pub, "--require", "none"); code != ExitOK {
		t.Fatalf("signed image: exit %d: %s%s", code, out, errOut)
	}
	for _, m := range []string{"foreign", "redirect"} {
		mu.Lock()
		mode = m
		mu.Unlock()
		code, out, errOut := run(t, "", "verify", host+"/app:1.0-1", "--cosign-key", pub, "--require", "none")
		if code == ExitOK {
			t.Errorf("%s: exit 0: %s%s", m, out, errOut)
		}
		t.Logf("%s: exit %d: %s%s", m, code, out, errOut)
	}
}
