package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the name of the API token's file in the data directory.
const TokenFile = "token"

// minTokenLen keeps tokens long enough not to be guessed.
const minTokenLen = 16

// LoadOrCreateToken returns the service's API token and the file it is kept
// in, <dataDir>/token. With given set, that token is used and written to
// the file; otherwise the file's token is used, or a new random one (256
// bits) is generated and written on first start. The file is created with
// mode 0600, so local clients can read it and other users cannot.
func LoadOrCreateToken(dataDir, given string) (token, path string, err error) {
	path = filepath.Join(dataDir, TokenFile)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", "", fmt.Errorf("API token: create data directory: %w", err)
	}
	if given != "" {
		if err := checkToken(given); err != nil {
			return "", "", fmt.Errorf("API token: %w", err)
		}
		return given, path, writeToken(path, given)
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		token = strings.TrimSpace(string(data))
		if err := checkToken(token); err != nil {
			return "", "", fmt.Errorf("API token in %s: %w (delete the file to have a new one generated)", path, err)
		}
		return token, path, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("API token: %w", err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", "", fmt.Errorf("API token: generate: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(buf)
	return token, path, writeToken(path, token)
}

// writeToken replaces the token file atomically, never leaving it readable
// by others.
func writeToken(path, token string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return fmt.Errorf("API token: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("API token: %w", err)
	}
	if _, err := tmp.WriteString(token + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("API token: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("API token: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("API token: %w", err)
	}
	return nil
}

// checkToken accepts tokens that fit in an Authorization header unchanged.
func checkToken(t string) error {
	if len(t) < minTokenLen {
		return fmt.Errorf("the token must be at least %d characters long", minTokenLen)
	}
	for _, c := range t {
		if c <= ' ' || c > '~' {
			return errors.New("the token may hold only printable ASCII characters without spaces")
		}
	}
	return nil
}
