package apt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Errors of signature and freshness checks. Errors returned by this
// package wrap them, so callers can tell them apart with errors.Is.
var (
	ErrNoSignature      = errors.New("no OpenPGP signature")
	ErrUnknownKey       = errors.New("not signed by any key of the keyring")
	ErrBadSignature     = errors.New("invalid OpenPGP signature")
	ErrKeyExpired       = errors.New("signing key has expired")
	ErrKeyRevoked       = errors.New("signing key is revoked")
	ErrSignatureExpired = errors.New("signature has expired")
	ErrReleaseExpired   = errors.New("release file has expired (Valid-Until is in the past)")
)

const clearsignHeader = "-----BEGIN PGP SIGNED MESSAGE-----"

// VerifyInRelease checks the clearsigned InRelease file in data against
// kr at time now and returns the signed text. Text outside the signed
// block is rejected so that nothing unsigned can be mistaken for signed.
func VerifyInRelease(data []byte, kr *Keyring, now time.Time) ([]byte, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(clearsignHeader)) {
		return nil, fmt.Errorf("%w: not a clearsigned message", ErrNoSignature)
	}
	block, rest := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: malformed clearsigned message", ErrNoSignature)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%w: unsigned text after the signature", ErrBadSignature)
	}
	sig, err := io.ReadAll(block.ArmoredSignature.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: reading signature: %v", ErrBadSignature, err)
	}
	if err := verifySignature(block.Bytes, sig, kr, now); err != nil {
		return nil, err
	}
	return block.Plaintext, nil
}

// VerifyDetached checks a detached signature (Release.gpg, armored or
// binary) of signed against kr at time now.
func VerifyDetached(signed, signature []byte, kr *Keyring, now time.Time) error {
	if bytes.Contains(signature, []byte("-----BEGIN PGP SIGNATURE-----")) {
		block, err := armor.Decode(bytes.NewReader(signature))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNoSignature, err)
		}
		if signature, err = io.ReadAll(block.Body); err != nil {
			return fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
	}
	if len(signature) == 0 {
		return ErrNoSignature
	}
	return verifySignature(signed, signature, kr, now)
}

// verifySignature accepts the data when any key of kr made a valid
// signature over it. Each key is tried on its own so that a file signed by
// several keys, one of them expired, still verifies with the others.
// Otherwise the most telling failure is returned.
func verifySignature(signed, sig []byte, kr *Keyring, now time.Time) error {
	cfg := &packet.Config{Time: func() time.Time { return now }}
	var (
		worst     error = ErrUnknownKey
		worstRank       = 0
	)
	if kr == nil {
		return worst
	}
	for _, e := range kr.entities {
		_, _, err := openpgp.VerifyDetachedSignature(openpgp.EntityList{e}, bytes.NewReader(signed), bytes.NewReader(sig), cfg)
		if err == nil {
			return nil
		}
		rank, classified := classifySignatureError(err)
		if rank > worstRank {
			worst = fmt.Errorf("%w (key %X)", classified, e.PrimaryKey.Fingerprint)
			worstRank = rank
		}
	}
	return worst
}

// classifySignatureError maps go-crypto's errors to this package's and
// ranks them: a key that matched but failed says more than no key at all.
func classifySignatureError(err error) (int, error) {
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return 0, ErrUnknownKey
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		return 1, ErrSignatureExpired
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return 2, ErrKeyExpired
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return 3, ErrKeyRevoked
	}
	return 4, fmt.Errorf("%w: %v", ErrBadSignature, err)
}

// CheckFresh returns an error wrapping ErrReleaseExpired when the release
// has a Valid-Until before now.
func (r *Release) CheckFresh(now time.Time) error {
	if !r.ValidUntil.IsZero() && now.After(r.ValidUntil) {
		return fmt.Errorf("%w: valid until %s", ErrReleaseExpired, r.ValidUntil.Format(time.RFC1123))
	}
	return nil
}
