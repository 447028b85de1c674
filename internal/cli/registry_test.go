package cli

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
