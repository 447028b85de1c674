package apk

import (
	"archive/tar"
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// Package is one package record of an APKINDEX or of the installed
// database.
type Package struct {
	Name    string
	Version string
	Arch    string
	// Origin is the source package ("o:"); the name when the record has
	// none.
	Origin string
	// Checksum is the "C:" checksum of the package's control member.
	Checksum Checksum
	// Size is the .apk file size ("S:"); InstalledSize "I:".
	Size, InstalledSize int64
	// Depends, Provides and InstallIf are "D:", "p:" and "i:".
	Depends, Provides, InstallIf []Dep
	// ProviderPriority is "k:".
	ProviderPriority int
	// Replaces is "r:" (installed database only).
	Replaces []string
	// Fields are every field of the record, in order, for writing it back.
	Fields []ospkg.ApkField
}

// String returns "name-version".
func (p *Package) String() string { return p.Name + "-" + p.Version }

// FileName is the package's file name in its repository directory.
func (p *Package) FileName() string { return p.Name + "-" + p.Version + ".apk" }

// packageFromRecord reads the fields a Package has.
func packageFromRecord(r ospkg.ApkRecord) (*Package, error) {
	p := &Package{Fields: r.Fields}
	for _, f := range r.Fields {
		var err error
		switch f.Key {
		case 'P':
			p.Name = f.Value
		case 'V':
			p.Version = f.Value
		case 'A':
			p.Arch = f.Value
		case 'o':
			p.Origin = f.Value
		case 'C':
			p.Checksum = Checksum(f.Value)
		case 'S':
			p.Size, err = strconv.ParseInt(f.Value, 10, 64)
		case 'I':
			p.InstalledSize, err = strconv.ParseInt(f.Value, 10, 64)
		case 'k':
			p.ProviderPriority, err = strconv.Atoi(f.Value)
		case 'D':
			p.Depends, err = ParseDeps(f.Value)
		case 'p':
			p.Provides, err = ParseDeps(f.Value)
		case 'i':
			p.InstallIf, err = ParseDeps(f.Value)
		case 'r':
			p.Replaces = strings.Fields(f.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %c:%s: %w", r.Line, f.Key, f.Value, err)
		}
	}
	if p.Name == "" || p.Version == "" {
		return nil, fmt.Errorf("line %d: record without P: name or V: version", r.Line)
	}
	if p.Origin == "" {
		p.Origin = p.Name
	}
	return p, nil
}

// ParseIndex reads the text of an APKINDEX file.
func ParseIndex(text []byte) ([]*Package, error) {
	recs, err := ospkg.ReadApkRecords(text)
	if err != nil {
		return nil, fmt.Errorf("APKINDEX: %w", err)
	}
	out := make([]*Package, 0, len(recs))
	for _, r := range recs {
		p, err := packageFromRecord(r)
		if err != nil {
			return nil, fmt.Errorf("APKINDEX: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// maxIndexText bounds the uncompressed APKINDEX (Alpine's main is ~2 MiB).
const maxIndexText = 256 << 20

// Signature file name prefixes and their digests.
var signaturePrefixes = []struct {
	prefix string
	hash   crypto.Hash
}{
	{".SIGN.RSA256.", crypto.SHA256},
	{".SIGN.RSA.", crypto.SHA1},
}

// OpenIndex verifies an APKINDEX.tar.gz against kr and returns its
// packages. The first gzip stream must hold a signature, by a key of kr,
// of the second stream's compressed bytes; nothing may follow the second
// stream. Errors wrap ErrUnsigned, ErrUntrustedKey or ErrBadSignature.
func OpenIndex(data []byte, kr *Keyring) ([]*Package, error) {
	var sigs []signature
	var text []byte
	members, err := scanMembers(bytes.NewReader(data), 2, func(i int, r io.Reader) error {
		var err error
		if i == 0 {
			sigs, err = readSignatures(r)
		} else {
			text, err = readTarFile(r, "APKINDEX", maxIndexText)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(members) < 2 || len(sigs) == 0 {
		return nil, ErrUnsigned
	}
	if err := verifyIndex(sigs, members[1], kr); err != nil {
		return nil, err
	}
	if text == nil {
		return nil, errors.New("no APKINDEX file in the index archive")
	}
	return ParseIndex(text)
}

// signature is one .SIGN.* file.
type signature struct {
	key  string
	hash crypto.Hash
	sig  []byte
}

// readSignatures reads the .SIGN.* files of a signature tar.
func readSignatures(r io.Reader) ([]signature, error) {
	tr := tar.NewReader(r)
	var out []signature
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("signature archive: %w", err)
		}
		for _, sp := range signaturePrefixes {
			if key, ok := strings.CutPrefix(h.Name, sp.prefix); ok {
				b, err := io.ReadAll(io.LimitReader(tr, 64<<10))
				if err != nil {
					return nil, fmt.Errorf("signature %s: %w", h.Name, err)
				}
				out = append(out, signature{key: key, hash: sp.hash, sig: b})
				break
			}
		}
		if len(out) == 0 && !strings.HasPrefix(h.Name, ".SIGN.") {
			// Not a signature archive: an unsigned index.
			return nil, nil
		}
	}
}

// verifyIndex accepts the signed stream when a signature by a trusted key
// verifies.
func verifyIndex(sigs []signature, signed member, kr *Keyring) error {
	var untrusted []string
	for _, s := range sigs {
		pk, ok := kr.key(s.key)
		if !ok {
			untrusted = append(untrusted, s.key)
			continue
		}
		digest := signed.sha1
		if s.hash == crypto.SHA256 {
			digest = signed.sha256
		}
		if err := rsa.VerifyPKCS1v15(pk, s.hash, digest, s.sig); err != nil {
			return fmt.Errorf("%w: key %s", ErrBadSignature, s.key)
		}
		return nil
	}
	return fmt.Errorf("%w: %s (trusted: %s)", ErrUntrustedKey, strings.Join(untrusted, ", "), strings.Join(kr.Names(), ", "))
}

// readTarFile returns the content of the named file of a tar stream, or
// nil when it has none.
func readTarFile(r io.Reader, name string, limit int64) ([]byte, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("index archive: %w", err)
		}
		if h.Name != name {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("index archive: %s: %w", name, err)
		}
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("index archive: %s larger than %d bytes", name, limit)
		}
		return b, nil
	}
}
