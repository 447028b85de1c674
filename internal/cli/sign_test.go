package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/patchloop/patchloop/internal/publish"
)

// writePEM writes one PEM block to dir/name.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cosignKeyPair writes a cosign key file (encrypted with password) and its
// public key.
func cosignKeyPair(t *testing.T, dir, password string) (key, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	enc, err := encrypted.Encrypt(der, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(k.Public())
	name := filepath.Base(t.TempDir())
	return writePEM(t, dir, name+".key", "ENCRYPTED SIGSTORE PRIVATE KEY", enc), writePEM(t, dir, name+".pub", "PUBLIC KEY", pubDER)
}

// notationFiles writes a Notary Project signing key, its chain (leaf,
// root) and the root alone.
func notationFiles(t *testing.T, dir string) (key, chain, root string) {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	subject := func(cn string) pkix.Name {
		return pkix.Name{CommonName: cn, Organization: []string{"Patchloop test"}, Country: []string{"US"}, Province: []string{"WA"}}
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject("root"), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour * 24),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(nil, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	rootCert, _ := x509.ParseCertificate(rootDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: subject("signer"), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour * 12),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, BasicConstraintsValid: true}
	leafDER, err := x509.CreateCertificate(nil, leafTmpl, rootCert, leafKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	key = writePEM(t, dir, "notation.key", "PRIVATE KEY", keyDER)
	chain = filepath.Join(dir, "chain.pem")
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})...)
	if err := os.WriteFile(chain, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return key, chain, writePEM(t, dir, "root.pem", "CERTIFICATE", rootDER)
}

// TestPatchSignAttachVerify patches with cosign and notation keys and
// --attach, then verifies the result with `patchloop verify`; an
// unsigned original is refused under --require-signature-key.
func TestPatchSignAttachVerify(t *testing.T) {
	ref, db, repo := patchFixture(t)
	dataDir := t.TempDir()
	keys := t.TempDir()
	t.Setenv(envCosignPassword, "pw")
	key, pub := cosignKeyPair(t, keys, "pw")
	_, otherPub := cosignKeyPair(t, keys, "pw")
	nKey, nChain, nRoot := notationFiles(t, keys)
	common := []string{"--db", db, "--data-dir", dataDir, "--apt-mirror", repo.URL}

	// Verify before patch: the original is unsigned.
	code, out, errOut := run(t, "", append([]string{"patch", ref, "--require-signature-key", pub}, common...)...)
	if code != ExitError || !strings.Contains(errOut, "not signed by a trusted key") {
		t.Fatalf("unsigned original: exit %d: %s%s", code, out, errOut)
	}

	code, out, errOut = run(t, "", append([]string{"patch", ref, "--cosign-key", key, "--notation-key", nKey, "--notation-cert", nChain, "--attach", "-o", "json"}, common...)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Reference string
		Published *publish.Result
	}
	decodeJSON(t, out, &res)
	if res.Published == nil || !slices.Equal(res.Published.Signed, []string{"cosign", "notation"}) || len(res.Published.Attachments) != 5 {
		t.Fatalf("published: %s", out)
	}

	for _, args := range [][]string{{"--cosign-key", pub}, {"--notation-cert", nRoot}} {
		code, out, errOut = run(t, "", append([]string{"verify", res.Reference}, args...)...)
		if code != ExitOK || !strings.Contains(out, "Verified ") || strings.Count(out, "OK ") != 6 {
			t.Fatalf("verify %v: exit %d: %s%s", args, code, out, errOut)
		}
	}
	code, out, _ = run(t, "", "verify", res.Reference, "--cosign-key", otherPub, "-o", "json")
	var v publish.Verification
	decodeJSON(t, out, &v)
	if code != ExitError || v.OK || len(v.Checks) != 6 || v.Checks[0].OK {
		t.Fatalf("wrong key: exit %d: %s", code, out)
	}
	// The original has no attachments.
	code, out, _ = run(t, "", "verify", ref, "--cosign-key", pub, "--require", "vex")
	if code != ExitError || !strings.Contains(out, "MISSING vex") {
		t.Fatalf("original: exit %d: %s", code, out)
	}
	// Now the policy accepts a signed image: the patched one names
	// nothing left to fix.
	code, out, errOut = run(t, "", append([]string{"patch", res.Reference, "--require-signature-key", pub}, common...)...)
	if code != ExitOK || !strings.Contains(out, "Nothing to patch") {
		t.Fatalf("signed image: exit %d: %s%s", code, out, errOut)
	}
	code, _, errOut = run(t, "", "verify", res.Reference)
	if code != ExitUsage {
		t.Fatalf("no key: exit %d: %s", code, errOut)
	}
}

// TestSignFlagErrors: bad signing flags stop patch and serve before any
// work, naming the flag.
func TestSignFlagErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envCosignPassword, "right")
	key, _ := cosignKeyPair(t, dir, "right")
	t.Setenv(envCosignPassword, "wrong")
	for _, args := range [][]string{
		{"serve", "--data-dir", dir, "--skip-db-update", "--addr", "127.0.0.1:0", "--cosign-key", key},
		{"serve", "--data-dir", dir, "--skip-db-update", "--addr", "127.0.0.1:0", "--notation-key", key},
		{"serve", "--data-dir", dir, "--skip-db-update", "--addr", "127.0.0.1:0", "--require-signature-key", filepath.Join(dir, "missing.pub")},
	} {
		code, _, errOut := run(t, "", args...)
		if code != ExitUsage || !strings.Contains(errOut, args[len(args)-2]) {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
}

// TestSigningSecretsNotLogged: the cosign password and the key's
// material never appear in what patch prints (progress log, result,
// errors), with the right password and with a wrong one; a key file
// other users can read gets a warning.
func TestSigningSecretsNotLogged(t *testing.T) {
	ref, db, repo := patchFixture(t)
	dataDir := t.TempDir()
	keys := t.TempDir()
	const password = "Tr0ub4dor-patchloop-s3cret"
	key, pub := cosignKeyPair(t, keys, password)
	data, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	material := base64.StdEncoding.EncodeToString(block.Bytes)[:24]
	common := []string{"--db", db, "--data-dir", dataDir, "--apt-mirror", repo.URL}
	leaks := func(what, s string) {
		t.Helper()
		for _, secret := range []string{password, material} {
			if strings.Contains(s, secret) {
				t.Errorf("%s contains a secret %q:\n%s", what, secret, s)
			}
		}
	}

	t.Setenv(envCosignPassword, password+"-wrong")
	code, out, errOut := run(t, "", append([]string{"patch", ref, "--cosign-key", key, "--attach", "-v"}, common...)...)
	if code != ExitUsage || !strings.Contains(errOut, "COSIGN_PASSWORD") {
		t.Fatalf("wrong password: exit %d: %s%s", code, out, errOut)
	}
	leaks("wrong password", out+errOut)

	t.Setenv(envCosignPassword, password)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "", append([]string{"patch", ref, "--cosign-key", key, "--attach", "-v", "-o", "json"}, common...)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	leaks("patch", out+errOut)
	if !strings.Contains(errOut, "Warning: --cosign-key "+key+" is accessible by other users (mode 0644)") {
		t.Errorf("no permission warning:\n%s", errOut)
	}
	code, out, errOut = run(t, "", "verify", ref[:strings.LastIndex(ref, ":")]+":1.0-1", "--cosign-key", pub)
	if code != ExitOK {
		t.Fatalf("verify: exit %d: %s%s", code, out, errOut)
	}
}
