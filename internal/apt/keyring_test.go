package apt_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

func TestKeyringFormats(t *testing.T) {
	a := aptrepo.NewKey(t, aptrepo.KeyOptions{})
	b := aptrepo.NewKey(t, aptrepo.KeyOptions{})
	ctx := context.Background()
	bin, err := apt.LoadKeyringFiles(ctx, a.WriteKeyring(t, "a.gpg"))
	if err != nil {
		t.Fatal(err)
	}
	asc, err := apt.LoadKeyringFiles(ctx, a.WriteKeyring(t, "a.asc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(bin.Fingerprints()) != 1 || !reflect.DeepEqual(bin.Fingerprints(), asc.Fingerprints()) {
		t.Errorf("binary %v, armored %v", bin.Fingerprints(), asc.Fingerprints())
	}
	both, err := apt.ParseKeyring(append(a.ArmoredPublicKey(t), b.ArmoredPublicKey(t)...))
	if err != nil {
		t.Fatal(err)
	}
	merged := apt.MergeKeyrings(bin, nil, mustParse(t, b.PublicKeyring(t)))
	if len(both.Fingerprints()) != 2 || !reflect.DeepEqual(both.Fingerprints(), merged.Fingerprints()) {
		t.Errorf("two armored blocks %v, merged %v", both.Fingerprints(), merged.Fingerprints())
	}
	concatenated := mustParse(t, append(a.PublicKeyring(t), b.PublicKeyring(t)...))
	if !reflect.DeepEqual(concatenated.Fingerprints(), merged.Fingerprints()) {
		t.Errorf("concatenated binary keyring %v", concatenated.Fingerprints())
	}
}

func mustParse(t *testing.T, data []byte) *apt.Keyring {
	t.Helper()
	kr, err := apt.ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestKeyringErrors(t *testing.T) {
	keybox := append([]byte{0, 0, 0, 32, 1, 1, 0, 0}, []byte("KBXf")...)
	for name, data := range map[string][]byte{
		"keybox":  append(keybox, make([]byte, 20)...),
		"garbage": []byte("not a key"),
		"empty":   nil,
		"armor":   []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"),
	} {
		if _, err := apt.ParseKeyring(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := apt.LoadKeyringFiles(context.Background(), "/nonexistent/keyring.gpg"); err == nil {
		t.Error("missing file: no error")
	}
}

func TestVerifyInReleaseRejectsUnsignedText(t *testing.T) {
	repo := aptrepo.New(t, bookworm())
	kr := repoKeyring(t, repo)
	in := repo.File("dists/bookworm/InRelease")
	now := time.Now()
	text, err := apt.VerifyInRelease(in, kr, now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(text, repo.File("dists/bookworm/Release")) {
		t.Error("signed text differs from Release")
	}
	for name, data := range map[string][]byte{
		"prefix":    append([]byte("Suite: evil\n\n"), in...),
		"suffix":    append(bytes.Clone(in), "Suite: evil\n"...),
		"plain":     repo.File("dists/bookworm/Release"),
		"truncated": in[:len(in)-40],
	} {
		_, err := apt.VerifyInRelease(data, kr, now)
		if !errors.Is(err, apt.ErrNoSignature) && !errors.Is(err, apt.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := apt.VerifyDetached(repo.File("dists/bookworm/Release"), repo.File("dists/bookworm/Release.gpg"), kr, now); err != nil {
		t.Errorf("detached: %v", err)
	}
	if err := apt.VerifyDetached(repo.File("dists/bookworm/Release"), nil, kr, now); !errors.Is(err, apt.ErrNoSignature) {
		t.Errorf("empty signature: %v", err)
	}
	err = apt.VerifyDetached(repo.File("dists/bookworm/Release"), repo.File("dists/bookworm-security/Release.gpg"), kr, now)
	if !errors.Is(err, apt.ErrBadSignature) || !strings.Contains(err.Error(), kr.Fingerprints()[0]) {
		t.Errorf("signature of another file: %v", err)
	}
}
