package apk

import (
	"crypto/sha1" //nolint:gosec // apk's checksums are SHA-1; integrity comes from the signed index.
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

func newSHA1() hash.Hash   { return sha1.New() }
func newSHA256() hash.Hash { return sha256.New() }

// Checksum is apk's "Q1…" (SHA-1) or "Q2…" (SHA-256) checksum notation:
// the letter Q, the algorithm digit and the base64 digest.
type Checksum string

// ChecksumSHA1 returns the Q1 checksum of a SHA-1 digest.
func ChecksumSHA1(sum []byte) Checksum {
	return Checksum("Q1" + base64.StdEncoding.EncodeToString(sum))
}

// digest decodes the checksum; it returns the algorithm ("sha1",
// "sha256") and the digest.
func (c Checksum) digest() (string, []byte, error) {
	s := string(c)
	var alg string
	var n int
	switch {
	case strings.HasPrefix(s, "Q1"):
		alg, n = "sha1", 20
	case strings.HasPrefix(s, "Q2"):
		alg, n = "sha256", 32
	default:
		return "", nil, fmt.Errorf("checksum %q: not Q1 or Q2", s)
	}
	d, err := base64.StdEncoding.DecodeString(s[2:])
	if err != nil || len(d) != n {
		return "", nil, fmt.Errorf("checksum %q: bad digest", s)
	}
	return alg, d, nil
}

// Hex returns the digest in hex, for file names; "" when malformed.
func (c Checksum) Hex() string {
	_, d, err := c.digest()
	if err != nil {
		return ""
	}
	return hex.EncodeToString(d)
}
