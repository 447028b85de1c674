package apk

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path"
	"slices"
)

// Keyring is a set of RSA public keys by file name, as apk keeps them in
// etc/apk/keys: an index signature names the file of its key
// (".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub").
type Keyring struct {
	keys map[string]*rsa.PublicKey
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring { return &Keyring{keys: map[string]*rsa.PublicKey{}} }

// Add parses a PEM public key (PKIX "PUBLIC KEY" or PKCS#1 "RSA PUBLIC
// KEY") and adds it under the base name of file. A key already present
// under that name is kept.
func (k *Keyring) Add(file string, data []byte) error {
	name := path.Base(file)
	block, _ := pem.Decode(data)
	if block == nil {
		return fmt.Errorf("key %s: no PEM block", file)
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return fmt.Errorf("key %s: PEM block %q is not a public key", file, block.Type)
	}
	if err != nil {
		return fmt.Errorf("key %s: %w", file, err)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("key %s: not an RSA key", file)
	}
	if _, ok := k.keys[name]; !ok {
		k.keys[name] = rk
	}
	return nil
}

// Len returns the number of keys.
func (k *Keyring) Len() int {
	if k == nil {
		return 0
	}
	return len(k.keys)
}

// Names returns the key names, sorted.
func (k *Keyring) Names() []string {
	if k == nil {
		return nil
	}
	out := make([]string, 0, len(k.keys))
	for n := range k.keys {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// key returns the key of a name.
func (k *Keyring) key(name string) (*rsa.PublicKey, bool) {
	if k == nil {
		return nil, false
	}
	pk, ok := k.keys[name]
	return pk, ok
}

// Errors of index verification; errors of this package wrap them.
var (
	// ErrUnsigned: the index has no signature apk can check.
	ErrUnsigned = errors.New("index is not signed")
	// ErrUntrustedKey: the index is signed by a key the keyring lacks.
	ErrUntrustedKey = errors.New("index is signed by a key that is not trusted")
	// ErrBadSignature: the signature does not match the index.
	ErrBadSignature = errors.New("index signature does not verify")
	// ErrChecksum: a package file does not match the checksum the signed
	// index or its own .PKGINFO gives.
	ErrChecksum = errors.New("package checksum mismatch")
)
