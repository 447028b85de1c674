package apt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/patchloop/patchloop/internal/pgpkey"
)

// Keyring is a set of OpenPGP public keys trusted to sign repositories.
type Keyring struct {
	entities openpgp.EntityList
}

const armorPublicKeyHeader = "-----BEGIN PGP PUBLIC KEY BLOCK-----"

// ParseKeyring reads OpenPGP public keys in either encoding APT accepts:
// a binary keyring (.gpg, as in /etc/apt/trusted.gpg.d) or one or more
// ASCII-armored key blocks (.asc). GnuPG keybox files are not keyrings
// and are rejected.
func ParseKeyring(data []byte) (*Keyring, error) {
	if len(data) >= 12 && string(data[8:12]) == "KBXf" {
		return nil, errors.New("GnuPG keybox format is not supported; export the keys with gpg --export")
	}
	el, err := pgpkey.Read(data)
	if err != nil {
		return nil, err
	}
	kr := Keyring{entities: el}
	if len(kr.entities) == 0 {
		return nil, errors.New("no OpenPGP keys found")
	}
	return &kr, nil
}

// LoadKeyringFiles reads and merges the keyrings at paths.
func LoadKeyringFiles(ctx context.Context, paths ...string) (*Keyring, error) {
	var all []*Keyring
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("loading keyring: %w", err)
		}
		kr, err := ParseKeyring(data)
		if err != nil {
			return nil, fmt.Errorf("loading keyring %s: %w", p, err)
		}
		all = append(all, kr)
	}
	return MergeKeyrings(all...), nil
}

// MergeKeyrings returns a keyring holding the keys of all the given ones.
// Nil keyrings are skipped.
func MergeKeyrings(krs ...*Keyring) *Keyring {
	var out Keyring
	for _, kr := range krs {
		if kr != nil {
			out.entities = append(out.entities, kr.entities...)
		}
	}
	return &out
}

// Fingerprints returns the upper-case hex fingerprints of the primary keys.
func (k *Keyring) Fingerprints() []string {
	out := make([]string, len(k.entities))
	for i, e := range k.entities {
		out[i] = strings.ToUpper(fmt.Sprintf("%x", e.PrimaryKey.Fingerprint))
	}
	return out
}
