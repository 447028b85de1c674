package server

import (
	"fmt"
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
	given := "given-token-abcdefghij-0123456789"
	got, _, err := LoadOrCreateToken(dir, given)
	if err != nil || got != given {
		t.Fatalf("given: %q %v", got, err)
	}
	data, _ := os.ReadFile(path)
	if strings.TrimSpace(string(data)) != given {
		t.Fatalf("file holds %q, want the given token", data)
	}
	for bad, want := range map[string]string{
		"short":                                   "at least 32 characters long (it has 5): generate one with `openssl rand -hex 32`",
		"given-token-abcdefghij":                  "at least 32 characters",
		strings.Repeat("a", 64):                   "only 1 different characters",
		strings.Repeat("abcd1234", 5)[:39]:        "", // 8 different: enough
		strings.Repeat("abc123-", 6):              "only 7 different characters",
		"has a space in it 0123456789abcdefghijk": "printable ASCII",
		"tab\tinside-0123456789abcdefghijklmnop":  "printable ASCII",
	} {
		_, _, err := LoadOrCreateToken(dir, bad)
		if want == "" {
			if err != nil {
				t.Errorf("token %q: %v", bad, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "openssl rand -hex 32") {
			t.Errorf("token %q: err = %v, want it to say %q and how to generate one", bad, err, want)
		}
	}
	// The refused tokens left the file as it was.
	if data, _ := os.ReadFile(path); strings.TrimSpace(string(data)) != strings.Repeat("abcd1234", 5)[:39] {
		t.Fatalf("file holds %q", data)
	}
	if err := os.WriteFile(path, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateToken(dir, ""); err == nil || !strings.Contains(err.Error(), "delete the file") {
		t.Errorf("broken token file: %v", err)
	}
}

// A token file others may read is refused, not used and not repaired: its
// token may be known, so the operator chooses to keep it (chmod) or not.
func TestLoadOrCreateTokenRefusesLooseFile(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		dir := t.TempDir()
		path := filepath.Join(dir, "token")
		secret := "file-token-0123456789-abcdefghijklmnop"
		if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		tok, _, err := LoadOrCreateToken(dir, "")
		want := fmt.Sprintf("API token: %s: mode %04o lets other users read or change it", path, mode)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "chmod 600 "+path) || tok != "" {
			t.Errorf("mode %04o: token %q, err = %v; want %q and a chmod hint", mode, tok, err, want)
		}
		if strings.Contains(fmt.Sprint(err), secret) {
			t.Errorf("mode %04o: the error shows the token: %v", mode, err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("mode %04o: the file was changed: %v %v", mode, fi.Mode(), err)
		}
		// Fixed by the operator, it is used.
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if tok, _, err := LoadOrCreateToken(dir, ""); err != nil || tok != secret {
			t.Errorf("after chmod 600: %q, %v", tok, err)
		}
	}
}
