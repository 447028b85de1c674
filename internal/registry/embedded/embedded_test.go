package embedded_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"golang.org/x/crypto/bcrypt"

	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/registry/embedded"
)

// writeHtpasswd writes an htpasswd file with one bcrypt entry.
func writeHtpasswd(t *testing.T, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte("# registry users\n"+user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// start serves an embedded registry with the htpasswd file on loopback.
func start(t *testing.T, htpasswd string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := embedded.Start(ctx, "127.0.0.1:0", embedded.Options{Htpasswd: htpasswd})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = srv.Close()
	})
	return srv.Addr
}

func status(t *testing.T, method, url string, user, password string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestHtpasswd(t *testing.T) {
	t.Parallel()
	host := start(t, writeHtpasswd(t, "alice", "s3cret-pw"))
	ctx := context.Background()

	// With the user's credentials, as --username and --password-stdin give
	// them: push, resolve and delete work.
	c := registry.New(registry.WithKeychain(registry.StaticKeychain(host, "alice", "s3cret-pw", nil)))
	img, _ := random.Image(128, 1)
	ref, err := c.ParseReference(host + "/app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Push(ctx, ref, img); err != nil {
		t.Fatalf("authenticated push: %v", err)
	}
	d, err := c.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	byDigest, _ := c.ParseReference(host + "/app@" + d.Digest.String())

	// Anonymous or with a wrong password: no push, no delete, no pull.
	for name, kc := range map[string]authn.Keychain{
		"anonymous":      authn.NewMultiKeychain(),
		"wrong password": registry.StaticKeychain(host, "alice", "guess", nil),
		"unknown user":   registry.StaticKeychain(host, "mallory", "s3cret-pw", nil),
	} {
		other := registry.New(registry.WithKeychain(kc))
		other2, _ := other.ParseReference(host + "/app:2.0")
		if err := other.Push(ctx, other2, img); !registry.IsUnauthorized(err) {
			t.Errorf("%s push: %v, want unauthorized", name, err)
		}
		if err := other.Delete(ctx, byDigest); !registry.IsUnauthorized(err) {
			t.Errorf("%s delete: %v, want unauthorized", name, err)
		}
	}
	base := "http://" + host + "/v2/app/"
	for _, r := range []struct{ method, path string }{
		{http.MethodDelete, "manifests/" + d.Digest.String()},
		{http.MethodPost, "blobs/uploads/"},
		{http.MethodPut, "manifests/9.9"},
		{http.MethodGet, "tags/list"},
	} {
		if code := status(t, r.method, base+r.path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d, want 401", r.method, r.path, code)
		}
		if code := status(t, r.method, base+r.path, "alice", "nope"); code != http.StatusUnauthorized {
			t.Errorf("wrong password %s %s: %d, want 401", r.method, r.path, code)
		}
	}
	// The image is still there; the user deletes it.
	if _, err := c.Resolve(ctx, ref); err != nil {
		t.Fatalf("image gone after refused deletes: %v", err)
	}
	if err := c.Delete(ctx, byDigest); err != nil {
		t.Fatalf("authenticated delete: %v", err)
	}
	if _, err := c.Resolve(ctx, ref); !registry.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestHtpasswdFileMustBeUsable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing")
	for path, want := range map[string]string{
		missing:                        "no such file",
		write("empty", "# nobody\n\n"): "has no users",
		write("sha", "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"): "line 1: user alice: not a bcrypt hash",
		write("nocolon", "alice\n"):                               "line 1: want USER:HASH",
	} {
		_, _, err := embedded.Handler(context.Background(), embedded.Options{Htpasswd: path})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "htpasswd -Bbn") {
			t.Errorf("%s: err = %v, want %q and how to make one", filepath.Base(path), err, want)
		}
	}
	// Distribution would create a missing file with a random password.
	if _, err := os.Stat(missing); err == nil {
		t.Error("a missing htpasswd file was created")
	}
}
