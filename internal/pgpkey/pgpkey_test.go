package pgpkey

import (
	"bytes"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// newKey returns a fresh public key, binary and armored.
func newKey(t *testing.T, name string) (bin, armored []byte) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	var a bytes.Buffer
	w, err := armor.Encode(&a, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), a.Bytes()
}

func TestReadBinaryAndArmored(t *testing.T) {
	bin1, arm1 := newKey(t, "one")
	bin2, arm2 := newKey(t, "two")
	if el, err := Read(append(bin1, bin2...)); err != nil || len(el) != 2 {
		t.Fatalf("binary keyring: %d keys, %v; want 2", len(el), err)
	}
	text := append(append(append([]byte("key one:\n"), arm1...), "\nkey two:\n"...), arm2...)
	el, err := Read(text)
	if err != nil || len(el) != 2 {
		t.Fatalf("two armored blocks: %d keys, %v; want 2", len(el), err)
	}
	if _, err := Read([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 ***\n")); err == nil {
		t.Fatal("a broken armored block was accepted")
	}
	if _, err := Read([]byte("not a keyring")); err == nil {
		t.Fatal("garbage was accepted as a binary keyring")
	}
}
