package rpm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmdb"
	"github.com/patchloop/patchloop/internal/testutil/rpmbuild"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// trusted is a keyring holding the test repository key.
func trusted(t *testing.T) *rpm.Keyring {
	t.Helper()
	kr, err := rpm.ParseKeyring("RPM-GPG-KEY-test", rpmrepo.RepoKey().PublicArmored())
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// testPackage is a package with a file of each kind.
func testPackage(comp string) rpmrepo.Package {
	return rpmrepo.Package{
		Name: "hello", Version: "2.0", Release: "1", Compressor: comp,
		Files: []rpmrepo.File{
			{Path: "/usr/bin/hello", Mode: 0o755, Content: []byte("#!/bin/sh\necho hello\n")},
			{Path: "/usr/bin/hi", HardLinkOf: "/usr/bin/hello"},
			{Path: "/usr/bin/hey", LinkTo: "hello"},
			{Path: "/usr/share/hello", Dir: true},
			{Path: "/etc/hello.conf", Content: []byte("x=1\n"), Flags: rpm.FileConfig | rpm.FileNoReplace},
			{Path: "/var/log/hello.log", Flags: rpm.FileGhost},
		},
	}
}

// entry is what the test compares of an archive entry.
type entry struct {
	Path    string
	Mode    uint16
	Content string
	Flags   rpm.FileFlags
}

// readAll reads every entry of a package's payload.
func readAll(t *testing.T, data []byte, opts rpm.VerifyOptions) ([]entry, error) {
	t.Helper()
	p, err := rpm.ReadPackage(bytes.NewReader(data), "test.rpm")
	if err != nil {
		return nil, err
	}
	if _, err := p.Verify(opts); err != nil {
		return nil, err
	}
	a, err := p.Payload(opts)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	var out []entry
	for {
		e, err := a.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(a)
		if err != nil {
			return nil, err
		}
		out = append(out, entry{Path: e.Path, Mode: e.File.Mode, Content: string(b), Flags: e.File.Flags})
	}
}

func TestReadBuiltPackage(t *testing.T) {
	kr := trusted(t)
	want := []entry{
		{Path: "etc/hello.conf", Mode: 0o100644, Content: "x=1\n", Flags: rpm.FileConfig | rpm.FileNoReplace},
		{Path: "usr/bin/hello", Mode: 0o100755},
		{Path: "usr/bin/hey", Mode: 0o120777, Content: "hello"},
		{Path: "usr/bin/hi", Mode: 0o100755, Content: "#!/bin/sh\necho hello\n"},
		{Path: "usr/share/hello", Mode: 0o40755},
	}
	for _, comp := range []string{"gzip", "xz", "zstd"} {
		b, err := rpmrepo.Build(testPackage(comp))
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, b.Data, rpm.VerifyOptions{Keyring: kr, RequireSignature: true})
		if err != nil {
			t.Fatalf("%s: %v", comp, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: entries (-want +got):\n%s", comp, d)
		}
	}
}

func TestVerifyRefusesTampering(t *testing.T) {
	kr := trusted(t)
	good, err := rpmrepo.Build(testPackage("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	stranger := testPackage("gzip")
	stranger.Key = rpmrepo.StrangerKey()
	byStranger, err := rpmrepo.Build(stranger)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := testPackage("gzip")
	unsigned.Unsigned = true
	noSig, err := rpmrepo.Build(unsigned)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int64) []byte {
		d := bytes.Clone(good.Data)
		d[at] ^= 0x01
		return d
	}
	// The name "hello" inside the main header's data store.
	nameAt := good.HeaderStart + int64(bytes.Index(good.Data[good.HeaderStart:good.HeaderEnd], []byte("hello\x00")))
	cases := []struct {
		name    string
		data    []byte
		require bool
		is      error
		keyID   string
	}{
		{"payload byte", flip(int64(len(good.Data)) - 10), true, rpm.ErrDigest, ""},
		{"header byte", flip(nameAt), true, rpm.ErrDigest, ""},
		{"foreign key", byStranger.Data, true, rpm.ErrUntrustedKey, rpmrepo.StrangerKey().KeyID()},
		{"unsigned with gpgcheck", noSig.Data, true, rpm.ErrNoSignature, ""},
		{"truncated", good.Data[:len(good.Data)-20], true, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.data, rpm.VerifyOptions{Keyring: kr, RequireSignature: tc.require})
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			var se *rpm.SignatureError
			if tc.keyID != "" && (!errors.As(err, &se) || se.KeyID != tc.keyID || !strings.Contains(err.Error(), "hello-2.0-1.x86_64")) {
				t.Fatalf("error %v: want a SignatureError naming the package and key %s", err, tc.keyID)
			}
		})
	}
	if _, err := readAll(t, noSig.Data, rpm.VerifyOptions{Keyring: kr}); err != nil {
		t.Errorf("unsigned package without gpgcheck: %v", err)
	}
	if _, err := readAll(t, byStranger.Data, rpm.VerifyOptions{Keyring: kr, NoSignature: true}); err != nil {
		t.Errorf("package of a foreign key with gpgcheck=0: %v", err)
	}
	if _, err := readAll(t, flip(int64(len(good.Data))-10), rpm.VerifyOptions{Keyring: kr, NoSignature: true}); !errors.Is(err, rpm.ErrDigest) {
		t.Errorf("tampered payload with gpgcheck=0: %v, want ErrDigest", err)
	}
}

func TestLegacySignatures(t *testing.T) {
	kr := trusted(t)
	legacy := testPackage("gzip")
	legacy.LegacySignature, legacy.NoPayloadDigest = true, true
	b, err := rpmrepo.Build(legacy)
	if err != nil {
		t.Fatal(err)
	}
	opts := rpm.VerifyOptions{Keyring: kr, RequireSignature: true}
	if _, err := readAll(t, b.Data, opts); err != nil {
		t.Fatalf("header+payload signature: %v", err)
	}
	d := bytes.Clone(b.Data)
	d[len(d)-10] ^= 1
	if _, err := readAll(t, d, opts); err == nil {
		t.Fatal("tampered payload under a header+payload signature accepted")
	}
	stranger := legacy
	stranger.Key = rpmrepo.StrangerKey()
	if b, err = rpmrepo.Build(stranger); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, b.Data, opts); !errors.Is(err, rpm.ErrUntrustedKey) {
		t.Fatalf("header+payload signature by a foreign key: %v", err)
	}
	// As rpm 4.11 signed (EL7): SHA-1 header digest, header signature,
	// header+payload signature, no payload digest.
	el7 := testPackage("xz")
	el7.EL7 = true
	if b, err = rpmrepo.Build(el7); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, b.Data, opts); err != nil {
		t.Fatalf("EL7-style package: %v", err)
	}
	d = bytes.Clone(b.Data)
	d[len(d)-30] ^= 1
	if _, err := readAll(t, d, opts); err == nil {
		t.Fatal("EL7-style package with a tampered payload accepted")
	}
	// Signed header without a payload digest: the payload is not covered.
	uncovered := testPackage("gzip")
	uncovered.NoPayloadDigest = true
	if b, err = rpmrepo.Build(uncovered); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, b.Data, opts); !errors.Is(err, rpm.ErrNoSignature) {
		t.Fatalf("payload not covered by the signature: %v, want ErrNoSignature", err)
	}
}

func TestOpenFileVerifiesBeforeStreaming(t *testing.T) {
	good, err := rpmrepo.Build(testPackage("zstd"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.rpm")
	bad := filepath.Join(dir, "bad.rpm")
	d := bytes.Clone(good.Data)
	d[len(d)-5] ^= 0xff
	if err := os.WriteFile(ok, good.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, d, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := rpm.VerifyOptions{Keyring: trusted(t), RequireSignature: true, Now: time.Now()}
	if _, _, err := rpm.OpenFile(bad, opts); !errors.Is(err, rpm.ErrDigest) {
		t.Fatalf("tampered file: %v, want ErrDigest", err)
	}
	p, f, err := rpm.OpenFile(ok, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := p.Payload(opts)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := a.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 5 {
		t.Errorf("%d entries, want 5", n)
	}
}

func TestReadRPMBuildPackage(t *testing.T) {
	rpmbuild.Need(t, "rpmbuild")
	dir := t.TempDir()
	f := rpmbuild.Build(t, dir, rpmbuild.Spec{Name: "built", Version: "1.0", Release: "1",
		Files: map[string]string{"/usr/share/built/a.txt": "alpha\n", "/etc/built.conf": "c=1\n"}, Config: []string{"/etc/built.conf"}})
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, data, rpm.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	contents := map[string]string{}
	for _, e := range got {
		contents[e.Path] = e.Content
	}
	if contents["usr/share/built/a.txt"] != "alpha\n" || contents["etc/built.conf"] != "c=1\n" {
		t.Errorf("entries of rpmbuild's package: %+v", got)
	}
	if _, err := readAll(t, data, rpm.VerifyOptions{RequireSignature: true}); !errors.Is(err, rpm.ErrNoSignature) {
		t.Errorf("unsigned rpmbuild package with gpgcheck: %v", err)
	}
}

func TestKeyExpiredAfterSigning(t *testing.T) {
	p := testPackage("gzip")
	p.Key = rpmrepo.ExpiredKey()
	b, err := rpmrepo.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := rpm.ParseKeyring("expired", rpmrepo.ExpiredKey().PublicArmored())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, b.Data, rpm.VerifyOptions{Keyring: kr, RequireSignature: true}); err != nil {
		t.Errorf("signed while the key was valid: %v", err)
	}
	if _, err := readAll(t, b.Data, rpm.VerifyOptions{Keyring: kr, RequireSignature: true, Now: time.Now()}); !errors.Is(err, rpm.ErrBadSignature) {
		t.Errorf("checked now, after the key expired: %v, want ErrBadSignature", err)
	}
}

func TestKeyringFromRPMDatabase(t *testing.T) {
	rpmbuild.Need(t, "rpmkeys")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.asc")
	if err := os.WriteFile(keyFile, rpmrepo.RepoKey().PublicArmored(), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	if out, err := exec.Command("rpmkeys", "--dbpath", db, "--define", "_db_backend sqlite", "--import", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("rpmkeys --import: %v\n%s", err, out)
	}
	rdb, err := rpmdb.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := rdb.Packages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var krs []*rpm.Keyring
	for _, p := range pkgs {
		h, err := p.Header()
		if err != nil {
			t.Fatal(err)
		}
		kr, err := rpm.KeyringFromPubkey(h)
		if err != nil {
			t.Fatal(err)
		}
		if kr != nil {
			krs = append(krs, kr)
		}
	}
	if len(krs) != 1 {
		t.Fatalf("%d gpg-pubkey headers, want 1", len(krs))
	}
	b, err := rpmrepo.Build(testPackage("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, b.Data, rpm.VerifyOptions{Keyring: krs[0], RequireSignature: true}); err != nil {
		t.Errorf("package verified with the key rpm imported: %v", err)
	}
}

func TestOpenPGPTag(t *testing.T) {
	kr := trusted(t)
	opts := rpm.VerifyOptions{Keyring: kr, RequireSignature: true}
	p := testPackage("zstd")
	p.OpenPGPTag, p.Key, p.ExtraKeys = true, rpmrepo.StrangerKey(), []*rpmrepo.Key{rpmrepo.RepoKey()}
	b, err := rpmrepo.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, b.Data, opts); err != nil {
		t.Errorf("OPENPGP signatures, the second by a trusted key: %v", err)
	}
	p.ExtraKeys = nil
	if b, err = rpmrepo.Build(p); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, b.Data, opts); !errors.Is(err, rpm.ErrUntrustedKey) {
		t.Errorf("OPENPGP signature by a foreign key: %v", err)
	}
}

// TestPayloadRefusesHugeDeclaredSizes: a header declaring terabytes of
// file content is refused before anything is decompressed or spooled.
func TestPayloadRefusesHugeDeclaredSizes(t *testing.T) {
	b, err := rpmrepo.Build(rpmrepo.Package{Name: "bomb", Version: "1", Release: "1", Unsigned: true,
		Files: []rpmrepo.File{{Path: "/usr/bin/a", Content: []byte("a")}, {Path: "/usr/bin/b", Content: []byte("b")}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rpm.ReadPackage(bytes.NewReader(b.Data), "bomb.rpm")
	if err != nil {
		t.Fatal(err)
	}
	sizes := make([]byte, 16)
	for i := range 2 {
		binary.BigEndian.PutUint64(sizes[8*i:], 1<<40) // 1 TiB each
	}
	p.Header.Set(rpm.Entry{Tag: rpm.TagLongFileSizes, Type: rpm.TypeInt64, Count: 2, Data: sizes})
	_, err = p.Payload(rpm.VerifyOptions{NoSignature: true})
	if !errors.Is(err, rpm.ErrPayloadTooLarge) || !strings.Contains(err.Error(), "bomb") {
		t.Fatalf("err %v, want ErrPayloadTooLarge naming the package", err)
	}
}
