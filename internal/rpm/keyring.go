package rpm

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/patchloop/patchloop/internal/pgpkey"
)

// Keyring is a set of OpenPGP public keys trusted to sign packages and
// repository metadata: the keys an image names with gpgkey=, or the
// keys given with --rpm-keyring.
type Keyring struct {
	entities openpgp.EntityList
}

// ParseKeyring reads OpenPGP public keys, binary or ASCII-armored (as in
// /etc/pki/rpm-gpg; a file may hold several armored blocks). name is
// used in errors.
func ParseKeyring(name string, data []byte) (*Keyring, error) {
	el, err := pgpkey.Read(data)
	if err != nil {
		return nil, fmt.Errorf("OpenPGP key %s: %w", name, err)
	}
	if len(el) == 0 {
		return nil, fmt.Errorf("OpenPGP key %s: no public key", name)
	}
	return &Keyring{entities: el}, nil
}

// MergeKeyrings returns a keyring holding the keys of all the given ones;
// nil keyrings are skipped.
func MergeKeyrings(krs ...*Keyring) *Keyring {
	var out Keyring
	for _, kr := range krs {
		if kr != nil {
			out.entities = append(out.entities, kr.entities...)
		}
	}
	return &out
}

// Len returns the number of primary keys.
func (k *Keyring) Len() int {
	if k == nil {
		return 0
	}
	return len(k.entities)
}

// KeyIDs returns the 16-digit upper-case hex key IDs of the primary keys.
func (k *Keyring) KeyIDs() []string {
	if k == nil {
		return nil
	}
	out := make([]string, len(k.entities))
	for i, e := range k.entities {
		out[i] = fmt.Sprintf("%016X", e.PrimaryKey.KeyId)
	}
	return out
}

// Errors of signature checks; errors of this package wrap them.
var (
	// ErrNoSignature: there is no signature to check.
	ErrNoSignature = errors.New("no OpenPGP signature")
	// ErrUntrustedKey: the signing key is not in the keyring.
	ErrUntrustedKey = errors.New("signed by a key that is not trusted")
	// ErrBadSignature: the signature does not match the data, or the key
	// is expired or revoked.
	ErrBadSignature = errors.New("OpenPGP signature does not verify")
)

// SignatureError says why an OpenPGP signature was refused, naming what
// was signed (a package file, repomd.xml) and the key ID the signature
// names. It wraps ErrUntrustedKey or ErrBadSignature.
type SignatureError struct {
	// Subject names what was signed.
	Subject string
	// KeyID is the 16-digit hex issuer key ID, "" when the signature
	// names none.
	KeyID string
	// Err is ErrUntrustedKey or ErrBadSignature, possibly wrapped.
	Err error
}

// Error names the subject, the key and the reason.
func (e *SignatureError) Error() string {
	key := ""
	if e.KeyID != "" {
		key = " (key ID " + e.KeyID + ")"
	}
	if errors.Is(e.Err, ErrUntrustedKey) {
		return fmt.Sprintf("%s: %v%s; import the key with gpgkey= in the repository file or --rpm-keyring", e.Subject, e.Err, key)
	}
	return fmt.Sprintf("%s: %v%s", e.Subject, e.Err, key)
}

// Unwrap returns the reason.
func (e *SignatureError) Unwrap() error { return e.Err }

// VerifyDetached checks a detached OpenPGP signature (binary, or armored
// as repomd.xml.asc is) of signed against the keyring at time now. subject
// names the signed data in errors.
func (k *Keyring) VerifyDetached(subject string, signed, signature []byte, now time.Time) error {
	if bytes.Contains(signature, []byte("-----BEGIN PGP SIGNATURE-----")) {
		block, err := armor.Decode(bytes.NewReader(signature))
		if err != nil {
			return fmt.Errorf("%s: %w: %v", subject, ErrNoSignature, err)
		}
		if signature, err = io.ReadAll(block.Body); err != nil {
			return &SignatureError{Subject: subject, Err: fmt.Errorf("%w: %v", ErrBadSignature, err)}
		}
	}
	if len(signature) == 0 {
		return fmt.Errorf("%s: %w", subject, ErrNoSignature)
	}
	return k.verify(subject, bytes.NewReader(signed), signature, now)
}

// VerifyReader checks a binary detached signature over everything r
// yields, as the header signatures of a package file are (RSAHEADER over
// the main header). A zero now means the signature's creation time: the
// key must have been valid when it signed, as rpm 4 accepts packages
// signed before their key expired (a revoked key still fails).
func (k *Keyring) VerifyReader(subject string, signed io.Reader, signature []byte, now time.Time) error {
	if len(signature) == 0 {
		return fmt.Errorf("%s: %w", subject, ErrNoSignature)
	}
	return k.verify(subject, signed, signature, now)
}

// verify accepts the data when a key of the keyring made a valid
// signature over it.
func (k *Keyring) verify(subject string, signed io.Reader, signature []byte, now time.Time) error {
	keyID := SignatureKeyID(signature)
	if now.IsZero() {
		now = signatureTime(signature)
	}
	var el openpgp.EntityList
	if k != nil {
		el = k.entities
	}
	cfg := &packet.Config{Time: func() time.Time { return now }}
	_, _, err := openpgp.VerifyDetachedSignature(el, signed, bytes.NewReader(signature), cfg)
	if err == nil {
		return nil
	}
	if errors.Is(err, pgperrors.ErrUnknownIssuer) {
		return &SignatureError{Subject: subject, KeyID: keyID, Err: ErrUntrustedKey}
	}
	return &SignatureError{Subject: subject, KeyID: keyID, Err: fmt.Errorf("%w: %v", ErrBadSignature, err)}
}

// signatureTime returns a binary signature's creation time, or the
// current time when it cannot be read.
func signatureTime(signature []byte) time.Time {
	p, err := packet.Read(bytes.NewReader(signature))
	if err != nil {
		return time.Now()
	}
	if sig, ok := p.(*packet.Signature); ok && !sig.CreationTime.IsZero() {
		return sig.CreationTime
	}
	return time.Now()
}

// SignatureKeyID returns the issuer key ID a binary OpenPGP signature
// names, as 16 upper-case hex digits, or "" when it cannot be read.
func SignatureKeyID(signature []byte) string {
	p, err := packet.Read(bytes.NewReader(signature))
	if err != nil {
		return ""
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return ""
	}
	if sig.IssuerKeyId != nil {
		return fmt.Sprintf("%016X", *sig.IssuerKeyId)
	}
	if len(sig.IssuerFingerprint) >= 8 {
		return strings.ToUpper(fmt.Sprintf("%x", sig.IssuerFingerprint[len(sig.IssuerFingerprint)-8:]))
	}
	return ""
}

// PubkeyName is the name rpm gives the header of a key imported with
// rpm --import (gpg-pubkey-<keyid>-<created>).
const PubkeyName = "gpg-pubkey"

// KeyringFromPubkey returns the key a gpg-pubkey header of an rpm
// database holds: PUBKEYS (base64 of the binary key), else the armored
// key of DESCRIPTION. It returns nil and no error for any other header.
// Images whose repositories name no gpgkey (zypper's often do not) trust
// these keys, as rpm itself does.
func KeyringFromPubkey(h *Header) (*Keyring, error) {
	if name, err := h.String(TagName); err != nil || name != PubkeyName {
		return nil, nil
	}
	v, _ := h.String(TagVersion)
	r, _ := h.String(TagRelease)
	what := PubkeyName + "-" + v + "-" + r
	if b64, err := h.Strings(TagPubKeys); err == nil && len(b64) > 0 {
		var krs []*Keyring
		for _, s := range b64 {
			bin, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
			if err != nil {
				return nil, fmt.Errorf("%s: PUBKEYS: %w", what, err)
			}
			kr, err := ParseKeyring(what, bin)
			if err != nil {
				return nil, err
			}
			krs = append(krs, kr)
		}
		return MergeKeyrings(krs...), nil
	}
	desc, err := h.String(TagDescription)
	if err != nil {
		return nil, fmt.Errorf("%s: no PUBKEYS and no DESCRIPTION: %w", what, err)
	}
	return ParseKeyring(what, []byte(desc))
}
