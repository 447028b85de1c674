package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/patchloop/patchloop/internal/api"
)

// TokenFile is the name of the API token's file in the data directory.
const TokenFile = api.TokenFile

// A token must be at least minTokenLen characters with at least
// minTokenDistinct different ones, so that it cannot be guessed: 32 hex
// digits of a random source carry 128 bits.
const (
	minTokenLen      = 32
	minTokenDistinct = 8
)

// generateHint says how to make a good token.
const generateHint = "generate one with `openssl rand -hex 32`"

// LoadOrCreateToken returns the service's API token and the file it is kept
// in, <dataDir>/token. With given set, that token is used and written to
// the file; otherwise the file's token is used, or a new random one (256
// bits) is generated and written on first start. The file is created with
// mode 0600, so local clients can read it and other users cannot. An
// existing file that group or others may read is refused, not repaired:
// its token may already be known, so the operator decides (chmod 600, or
// delete the file to have a new token generated).
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
	data, err := readTokenFile(path)
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

// readTokenFile reads the token file, refusing one that is not a regular
// file or that group or others may read or write.
func readTokenFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%s: mode %04o lets other users read or change it, so the token may be known: "+
			"if only you could read it, run `chmod 600 %s`; otherwise delete the file to have a new token generated", path, perm, path)
	}
	return io.ReadAll(f)
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

// checkToken accepts tokens that fit in an Authorization header unchanged
// and are long and varied enough not to be guessed.
func checkToken(t string) error {
	if len(t) < minTokenLen {
		return fmt.Errorf("the token must be at least %d characters long (it has %d): %s", minTokenLen, len(t), generateHint)
	}
	distinct := map[rune]bool{}
	for _, c := range t {
		if c <= ' ' || c > '~' {
			return errors.New("the token may hold only printable ASCII characters without spaces: " + generateHint)
		}
		distinct[c] = true
	}
	if len(distinct) < minTokenDistinct {
		return fmt.Errorf("the token uses only %d different characters, too few to be random (at least %d): %s", len(distinct), minTokenDistinct, generateHint)
	}
	return nil
}
