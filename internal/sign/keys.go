package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PEM block types of the private keys LoadPrivateKey reads.
const (
	pemCosignEncrypted   = "ENCRYPTED COSIGN PRIVATE KEY"
	pemSigstoreEncrypted = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemPKCS8             = "PRIVATE KEY"
	pemPKCS8Encrypted    = "ENCRYPTED PRIVATE KEY"
	pemEC                = "EC PRIVATE KEY"
	pemRSA               = "RSA PRIVATE KEY"
)

// LoadPrivateKey reads a signing key from a PEM file: a cosign key
// (`cosign generate-key-pair`, decrypted with password), a PKCS#8
// "PRIVATE KEY" as `openssl genpkey` writes it, or a SEC 1 "EC PRIVATE
// KEY" / PKCS#1 "RSA PRIVATE KEY". ECDSA P-256/P-384/P-521, RSA of 2048
// bits or more and Ed25519 keys are accepted.
func LoadPrivateKey(path string, password []byte) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	key, err := ParsePrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return key, nil
}

// ParsePrivateKey is LoadPrivateKey on the file's bytes.
func ParsePrivateKey(data, password []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file: want a cosign key or a PKCS#8 PEM private key")
	}
	var parsed any
	var err error
	switch block.Type {
	case pemCosignEncrypted, pemSigstoreEncrypted:
		der, derr := encrypted.Decrypt(block.Bytes, password)
		if derr != nil {
			return nil, fmt.Errorf("decrypting the cosign key (is COSIGN_PASSWORD right?): %w", derr)
		}
		parsed, err = x509.ParsePKCS8PrivateKey(der)
	case pemPKCS8:
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case pemEC:
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case pemRSA:
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case pemPKCS8Encrypted:
		return nil, errors.New("password-protected PKCS#8 keys are not read: decrypt it with `openssl pkcs8 -in KEY -out PLAIN.pem`, or use a cosign key with COSIGN_PASSWORD")
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key this reads (want %q, %q or %q)", block.Type, pemSigstoreEncrypted, pemCosignEncrypted, pemPKCS8)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the %s: %w", block.Type, err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T keys cannot sign", parsed)
	}
	if _, err := algorithmOf(key.Public()); err != nil {
		return nil, err
	}
	return key, nil
}

// LoadPublicKey reads a PEM "PUBLIC KEY" (PKIX), as `cosign
// generate-key-pair` and `openssl pkey -pubout` write it.
func LoadPublicKey(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return pub, nil
}

// ParsePublicKey is LoadPublicKey on the file's bytes.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New(`want a PEM "PUBLIC KEY" block (cosign.pub, or openssl pkey -pubout)`)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	if _, err := algorithmOf(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// algorithmOf is the sigstore algorithm a key signs with: ECDSA with the
// curve's hash, RSA PKCS#1 v1.5 with SHA-256, pure Ed25519.
func algorithmOf(pub crypto.PublicKey) (signature.AlgorithmDetails, error) {
	var alg protocommon.PublicKeyDetails
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			alg = protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
		case elliptic.P384():
			alg = protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384
		case elliptic.P521():
			alg = protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512
		default:
			return signature.AlgorithmDetails{}, fmt.Errorf("ECDSA curve %s is not supported (want P-256, P-384 or P-521)", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			alg = protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256
		case 3072:
			alg = protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256
		case 4096:
			alg = protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256
		default:
			return signature.AlgorithmDetails{}, fmt.Errorf("RSA keys of %d bits are not supported (want 2048, 3072 or 4096)", k.N.BitLen())
		}
	case ed25519.PublicKey:
		alg = protocommon.PublicKeyDetails_PKIX_ED25519
	default:
		return signature.AlgorithmDetails{}, fmt.Errorf("%T keys are not supported (want ECDSA, RSA or Ed25519)", pub)
	}
	return signature.GetAlgorithmDetails(alg)
}
