package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tok, path, err := LoadOrCreateToken(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "token") || len(tok) < 40 {
		t.Fatalf("token %d chars at %s", len(tok), path)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi.Mode(), err)
	}
	again, _, err := LoadOrCreateToken(dir, "")
	if err != nil || again != tok {
		t.Fatalf("second start: %q, %v; want the same token", again, err)
	}
	given := "given-token-abcdefghij"
	got, _, err := LoadOrCreateToken(dir, given)
	if err != nil || got != given {
		t.Fatalf("given: %q %v", got, err)
	}
	data, _ := os.ReadFile(path)
	if strings.TrimSpace(string(data)) != given {
		t.Fatalf("file holds %q, want the given token", data)
	}
	for _, bad := range []string{"short", "has a space in it 123", "tab\tinside-0123456789"} {
		if _, _, err := LoadOrCreateToken(dir, bad); err == nil {
			t.Errorf("token %q accepted", bad)
		}
	}
	if err := os.WriteFile(path, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateToken(dir, ""); err == nil || !strings.Contains(err.Error(), "delete the file") {
		t.Errorf("broken token file: %v", err)
	}
}
