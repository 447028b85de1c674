package apkrepo

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
)

// Key is an RSA signing key with the file name apk knows it by.
type Key struct {
	// Name is the key's file name ("…rsa.pub"), which signatures name.
	Name    string
	Private *rsa.PrivateKey
}

// PublicPEM returns the public key as apk stores it in etc/apk/keys.
func (k *Key) PublicPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&k.Private.PublicKey)
	if err != nil {
		panic(err) // An RSA key always marshals.
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// sharedKeys are generated once per test binary: 2048-bit RSA key
// generation takes long enough to matter in a test suite.
var (
	keysMu     sync.Mutex
	sharedKeys = map[int]*rsa.PrivateKey{}
)

// SharedKey returns the i-th key of this test binary, named name
// (generated on first use, then shared by every test asking for i).
func SharedKey(i int, name string) *Key {
	keysMu.Lock()
	defer keysMu.Unlock()
	pk, ok := sharedKeys[i]
	if !ok {
		var err error
		if pk, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(fmt.Sprintf("apkrepo: generating key: %v", err))
		}
		sharedKeys[i] = pk
	}
	return &Key{Name: name, Private: pk}
}

// IndexKey is the key repositories sign their indexes with by default,
// and that test images trust.
func IndexKey() *Key { return SharedKey(0, "alpine-devel@lists.alpinelinux.org-patchloop.rsa.pub") }

// BuildKey signs packages; test images do not have it, as real images do
// not have the keys of the builders.
func BuildKey() *Key { return SharedKey(1, "builder@example.org-5f1e2d3c.rsa.pub") }

// StrangerKey is trusted by nobody.
func StrangerKey() *Key { return SharedKey(2, "stranger@example.org-00000000.rsa.pub") }
