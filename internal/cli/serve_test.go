package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
)

var listening = regexp.MustCompile(`Patchloop API listening on (http://\S+)`)

// serveInProcess runs `patchloop serve` with args until the test ends and
// points the client commands at it through PATCHLOOP_SERVER; they find the
// token with --data-dir. It returns serve's stderr.
func serveInProcess(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), io.Discard, errb)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, errb)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if m := listening.FindStringSubmatch(errb.String()); m != nil {
			t.Setenv(client.EnvServer, m[1])
			t.Setenv(client.EnvToken, "")
			return errb
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d before listening:\n%s", code, errb)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", errb)
		}
	}
}

// serveEngine runs serve (the real engine, SQLite) in a new data directory
// holding an empty vulnerability database, next to a new registry; it
// returns the registry host, the data directory and serve's stderr.
func serveEngine(t *testing.T) (host, dir string, errb *syncBuffer) {
	t.Helper()
	host = registrytest.Start(t)
	dir = t.TempDir()
	if err := vulndbtest.Write(dbDir(dir), vulndbtest.Database{}); err != nil {
		t.Fatal(err)
	}
	return host, dir, serveInProcess(t, "--data-dir", dir, "--skip-db-update")
}

func TestServeBadFlags(t *testing.T) {
	cases := map[string][]string{
		"--concurrency 0":                         {"--concurrency", "0"},
		"--database-url: want":                    {"--database-url", "mysql://x"},
		"--username and --auth-registry":          {"--username", "u"},
		"at least 32 characters":                  {"--token", "short"},
		"openssl rand -hex 32":                    {"--token", strings.Repeat("ab", 20)},
		`--apt-mirror "ftp://x"`:                  {"--apt-mirror", "ftp://x"},
		"--db-repository has no effect with --db": {"--db", "x", "--db-repository", "example.com/db:2"},
		"--lease-timeout 1s":                      {"--lease-timeout", "1s"},
		`--log-format "xml": want text or json`:   {"--log-format", "xml"},
		`--log-level "loud"`:                      {"--log-level", "loud"},
	}
	for want, args := range cases {
		code, _, errs := run(t, "", append([]string{"serve", "--data-dir", t.TempDir()}, args...)...)
		if code != ExitUsage || !strings.Contains(errs, want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", args, code, errs, want)
		}
	}
}

func TestServeToken(t *testing.T) {
	host, dir, errb := serveEngine(t)
	path := filepath.Join(dir, "token")
	if !strings.Contains(errb.String(), "API token in "+path) {
		t.Fatalf("serve does not say where the token is:\n%s", errb)
	}
	data, err := os.ReadFile(path)
	if token := strings.TrimSpace(string(data)); err != nil || len(token) < 40 || strings.Contains(errb.String(), token) {
		t.Fatalf("token file: %q %v; serve's output:\n%s", data, err, errb)
	}
	// A wrong token: 401 and a clear message, exit 1.
	t.Setenv(client.EnvToken, "wrong-token-0123456789")
	code, _, errs := run(t, "", "workflow", "show", "-r", host, "--data-dir", dir)
	if code != ExitError || !strings.Contains(errs, "rejected the API token (HTTP 401)") {
		t.Fatalf("wrong token: exit %d: %s", code, errs)
	}
}

func TestServeRefusesEmptyDatabaseFile(t *testing.T) {
	dir := t.TempDir()
	if err := vulndbtest.Write(dbDir(dir), vulndbtest.Database{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "patchloop.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Old versions served on such a file: stop serve if it starts listening.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--skip-db-update"}, strings.NewReader(""), io.Discard, errb)
	}()
	var code int
	for waiting := true; waiting; {
		select {
		case code = <-done:
			waiting = false
		case <-time.After(10 * time.Millisecond):
			if listening.MatchString(errb.String()) {
				cancel()
				<-done
				t.Fatalf("serve started on an empty database file:\n%s", errb)
			}
		}
	}
	if code == 0 || !strings.Contains(errb.String(), "sqlite database "+path+" is an empty file (0 bytes)") {
		t.Fatalf("exit %d, stderr:\n%s", code, errb)
	}
}
