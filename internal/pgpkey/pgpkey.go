// Package pgpkey reads OpenPGP public keys in the two encodings package
// managers ship them in, for the repository clients that verify signed
// indexes and packages with them (internal/apt, internal/rpm).
package pgpkey

import (
	"bytes"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// armorHeader starts an ASCII-armored public key block.
const armorHeader = "-----BEGIN PGP PUBLIC KEY BLOCK-----"

// Read returns the public keys of data: a binary keyring (as in
// /etc/apt/trusted.gpg.d), or, when data holds an armored header, every
// ASCII-armored public key block in it (a file may hold several, as in
// /etc/pki/rpm-gpg; text around the blocks is ignored). The list may be
// empty; the caller decides whether that is an error.
func Read(data []byte) (openpgp.EntityList, error) {
	if !bytes.Contains(data, []byte(armorHeader)) {
		el, err := openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("reading binary keyring: %w", err)
		}
		return el, nil
	}
	var out openpgp.EntityList
	for {
		i := bytes.Index(data, []byte(armorHeader))
		if i < 0 {
			return out, nil
		}
		data = data[i:]
		block, err := armor.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("reading armored key: %w", err)
		}
		el, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, fmt.Errorf("reading armored key: %w", err)
		}
		out = append(out, el...)
		data = data[len(armorHeader):]
	}
}
