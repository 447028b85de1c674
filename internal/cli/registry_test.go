package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/crypto/bcrypt"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRegistryServe(t *testing.T) {
	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- Execute(ctx, []string{"registry", "serve", "--addr", "127.0.0.1:0", "--root", root}, strings.NewReader(""), &out, &errb)
	}()
	re := regexp.MustCompile(`listening on http://(\S+) `)
	var addr string
	for deadline := time.Now().Add(time.Minute); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("registry did not start: %s", errb.String())
	}
	img, _ := random.Image(256, 1)
	ref, _ := name.ParseReference(fmt.Sprintf("%s/demo/app:1.0", addr))
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("registry serve did not stop when interrupted")
	}
	// Content lives on disk: a new registry on the same root serves it.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	var errb2 syncBuffer
	go func() {
		Execute(ctx2, []string{"registry", "serve", "--addr", "127.0.0.1:0", "--root", root}, strings.NewReader(""), &out, &errb2)
	}()
	addr = ""
	for deadline := time.Now().Add(time.Minute); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(errb2.String()); m != nil {
			addr = m[1]
		}
	}
	ref2, _ := name.ParseReference(fmt.Sprintf("%s/demo/app:1.0", addr))
	if _, err := remote.Head(ref2); err != nil {
		t.Fatalf("image gone after restart: %v", err)
	}
}

func TestRegistryServeNeedsRoot(t *testing.T) {
	code, _, errs := run(t, "", "registry", "serve")
	if code != ExitUsage || !strings.Contains(errs, "--root is required") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestRegistryServeHtpasswd(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := writeFile(t, "htpasswd", "alice:"+string(hash)+"\n")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"registry", "serve", "--addr", "127.0.0.1:0", "--root", t.TempDir(), "--htpasswd", htpasswd}, strings.NewReader(""), &out, &errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d: %s", code, errb.String())
		}
	}()
	re := regexp.MustCompile(`listening on http://(\S+) `)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" || !strings.Contains(errb.String(), "users of "+htpasswd) {
		t.Fatalf("registry did not start: %s", errb.String())
	}
	img, _ := random.Image(256, 1)
	ref, _ := name.ParseReference(addr + "/demo/app:1.0")
	var terr *transport.Error
	if err := remote.Write(ref, img); !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous push: %v, want 401", err)
	}
	login := remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret-pw"})
	if err := remote.Write(ref, img, login); err != nil {
		t.Fatalf("push as alice: %v", err)
	}
	d, err := remote.Head(ref, login)
	if err != nil {
		t.Fatal(err)
	}
	byDigest, _ := name.ParseReference(addr + "/demo/app@" + d.Digest.String())
	if err := remote.Delete(byDigest); !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous delete: %v, want 401", err)
	}
	if err := remote.Delete(byDigest, login); err != nil {
		t.Fatalf("delete as alice: %v", err)
	}
}

func TestServeEmbeddedRegistryHtpasswdFlags(t *testing.T) {
	code, _, errs := run(t, "", "serve", "--data-dir", t.TempDir(), "--embedded-registry-htpasswd", "x")
	if code != ExitUsage || !strings.Contains(errs, "--embedded-registry-htpasswd needs --embedded-registry") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, "", "registry", "serve", "--root", t.TempDir(), "--addr", "127.0.0.1:0", "--htpasswd", filepath.Join(t.TempDir(), "missing"))
	if code == 0 || !strings.Contains(errs, "registry htpasswd file") || !strings.Contains(errs, "htpasswd -Bbn") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}
