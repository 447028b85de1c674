package aptrepo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Key is an OpenPGP key that signs test repositories.
type Key struct {
	entity *openpgp.Entity
	// signTime is when signatures made with the key claim to be made:
	// shortly after creation, so that an expired or revoked key can still
	// produce a signature for negative tests.
	signTime time.Time
}

// KeyOptions describes a test key.
type KeyOptions struct {
	// Created is the key's creation time; zero means one hour ago.
	Created time.Time
	// Lifetime, when non-zero, makes the key expire that long after
	// Created.
	Lifetime time.Duration
	// Revoked adds a revocation signature made now.
	Revoked bool
}

// NewKey generates an Ed25519 signing key.
func NewKey(t testing.TB, opts KeyOptions) *Key {
	t.Helper()
	created := opts.Created
	if created.IsZero() {
		created = time.Now().Add(-time.Hour)
	}
	cfg := &packet.Config{
		Algorithm:       packet.PubKeyAlgoEdDSA,
		Time:            func() time.Time { return created },
		KeyLifetimeSecs: uint32(opts.Lifetime / time.Second),
	}
	e, err := openpgp.NewEntity("Patchloop Test Archive", "", "archive@example.invalid", cfg)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	if opts.Revoked {
		if err := e.RevokeKey(packet.KeyRetired, "test", &packet.Config{}); err != nil {
			t.Fatalf("revoking key: %v", err)
		}
	}
	return &Key{entity: e, signTime: created.Add(time.Minute)}
}

// signConfig is the configuration signatures are made with.
func (k *Key) signConfig() *packet.Config {
	return &packet.Config{Time: func() time.Time { return k.signTime }}
}

// PublicKeyring returns the public key as a binary keyring (.gpg).
func (k *Key) PublicKeyring(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := k.entity.Serialize(&buf); err != nil {
		t.Fatalf("serializing key: %v", err)
	}
	return buf.Bytes()
}

// ArmoredPublicKey returns the public key ASCII-armored (.asc).
func (k *Key) ArmoredPublicKey(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatalf("armoring key: %v", err)
	}
	if _, err := w.Write(k.PublicKeyring(t)); err != nil {
		t.Fatalf("armoring key: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("armoring key: %v", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// WriteKeyring writes the public key into a new temporary directory under
// name, armored when name ends in ".asc" and binary otherwise, and returns
// the path.
func (k *Key) WriteKeyring(t testing.TB, name string) string {
	t.Helper()
	data := k.PublicKeyring(t)
	if strings.HasSuffix(name, ".asc") {
		data = k.ArmoredPublicKey(t)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
