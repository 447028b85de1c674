package rpmrepo

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Key is an OpenPGP RSA signing key (a v4 key, which rpm 4.x reads).
type Key struct {
	Entity *openpgp.Entity
}

// keyEpoch is the creation time of test keys: fixed, so that packages
// and signatures built twice are alike, and in the past.
var keyEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	keysMu sync.Mutex
	keys   = map[string]*Key{}
)

// SharedKey returns the test binary's key named name, generated on first
// use (2048-bit RSA generation is slow enough to share).
func SharedKey(name string) *Key { return sharedKey(name, 0) }

// ExpiredKey is valid for one day from its creation, 2024-01-01; it signs
// one hour after.
func ExpiredKey() *Key { return sharedKey("patchloop-expired", 86400) }

// sharedKey returns the named key, generated on first use with a
// lifetime in seconds (0: none).
func sharedKey(name string, lifetime uint32) *Key {
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[name]; ok {
		return k
	}
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048, Time: func() time.Time { return keyEpoch }, KeyLifetimeSecs: lifetime}
	e, err := openpgp.NewEntity(name, "patchloop test key", name+"@example.org", cfg)
	if err != nil {
		panic(fmt.Sprintf("rpmrepo: generating key %s: %v", name, err))
	}
	k := &Key{Entity: e}
	keys[name] = k
	return k
}

// RepoKey signs test packages and repomd.xml by default; test images
// trust it.
func RepoKey() *Key { return SharedKey("patchloop-repo") }

// StrangerKey is trusted by nobody.
func StrangerKey() *Key { return SharedKey("patchloop-stranger") }

// KeyID returns the key's 16-digit upper-case hex ID.
func (k *Key) KeyID() string { return fmt.Sprintf("%016X", k.Entity.PrimaryKey.KeyId) }

// PublicArmored returns the public key, ASCII-armored, as
// /etc/pki/rpm-gpg/RPM-GPG-KEY-* files hold it.
func (k *Key) PublicArmored() []byte {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		panic(err)
	}
	if err := k.Entity.Serialize(w); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// Sign returns a binary detached v4 signature of data.
func (k *Key) Sign(data []byte) []byte {
	var buf bytes.Buffer
	cfg := &packet.Config{Time: func() time.Time { return keyEpoch.Add(time.Hour) }}
	if err := openpgp.DetachSign(&buf, k.Entity, bytes.NewReader(data), cfg); err != nil {
		panic(fmt.Sprintf("rpmrepo: signing: %v", err))
	}
	return buf.Bytes()
}

// SignArmored returns an armored detached signature of data, as
// repomd.xml.asc holds it.
func (k *Key) SignArmored(data []byte) []byte {
	var buf bytes.Buffer
	cfg := &packet.Config{Time: func() time.Time { return keyEpoch.Add(time.Hour) }}
	if err := openpgp.ArmoredDetachSign(&buf, k.Entity, bytes.NewReader(data), cfg); err != nil {
		panic(fmt.Sprintf("rpmrepo: signing: %v", err))
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}
