package rpm

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"
)

// LeadSize is the size of a package file's lead.
const LeadSize = 96

// leadMagic starts every package file.
var leadMagic = [4]byte{0xed, 0xab, 0xee, 0xdb}

// Lead is the obsolete 96-byte start of a package file; rpm checks only
// its magic, major version and signature type.
type Lead struct {
	Major, Minor byte
	// Type is 0 for a binary package, 1 for a source package.
	Type int16
	Arch int16
	// Name is the NEVR rpmbuild wrote, informative only.
	Name    string
	OS      int16
	SigType int16
}

// leadSigTypeHeader is the only signature type rpm reads: a header.
const leadSigTypeHeader = 5

// parseLead checks a lead.
func parseLead(b []byte) (Lead, error) {
	if !bytes.Equal(b[:4], leadMagic[:]) {
		return Lead{}, fmt.Errorf("not an rpm package: lead magic %x", b[:4])
	}
	l := Lead{Major: b[4], Minor: b[5], Type: int16(binary.BigEndian.Uint16(b[6:])), Arch: int16(binary.BigEndian.Uint16(b[8:]))}
	name := b[10:76]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	l.Name = string(name)
	l.OS = int16(binary.BigEndian.Uint16(b[76:]))
	l.SigType = int16(binary.BigEndian.Uint16(b[78:]))
	if l.Major != 3 && l.Major != 4 {
		return Lead{}, fmt.Errorf("rpm lead version %d is not supported", l.Major)
	}
	if l.SigType != leadSigTypeHeader {
		return Lead{}, fmt.Errorf("rpm lead signature type %d is not supported", l.SigType)
	}
	return l, nil
}

// MarshalLead encodes a lead for a binary package named nevr.
func MarshalLead(nevr string, arch, os int16) []byte {
	b := make([]byte, LeadSize)
	copy(b, leadMagic[:])
	b[4], b[5] = 3, 0
	binary.BigEndian.PutUint16(b[8:], uint16(arch))
	copy(b[10:75], nevr)
	binary.BigEndian.PutUint16(b[76:], uint16(os))
	binary.BigEndian.PutUint16(b[78:], leadSigTypeHeader)
	return b
}

// Package is a package file read up to its payload: the lead, the
// signature header and the main header, with their bytes as read.
type Package struct {
	// Name names the package in errors (a file or URL).
	Name string
	Lead Lead
	// Signature is the signature header; SignatureRaw its bytes (magic
	// included, padding excluded).
	Signature    *Header
	SignatureRaw []byte
	// Header is the main header; HeaderRaw its bytes with magic, what
	// SHA256HEADER and RSAHEADER cover.
	Header    *Header
	HeaderRaw []byte
	// r is positioned at the payload.
	r io.Reader
}

// Errors of package verification; errors of this package wrap them (and
// ErrUntrustedKey, ErrBadSignature, ErrNoSignature of the keyring).
var (
	// ErrDigest: a digest of the package does not match.
	ErrDigest = errors.New("package digest mismatch")
	// ErrNoDigest: the package has no digest this package accepts.
	ErrNoDigest = errors.New("package has no SHA-256 or SHA-1 header digest")
	// ErrPayloadTooLarge: the payload holds, or its header declares, more
	// bytes than Patchloop unpacks (MaxPayloadContent; data after the
	// cpio trailer).
	ErrPayloadTooLarge = errors.New("package payload too large")
)

// ReadPackage reads a package file's lead and headers from r, leaving r
// at the start of the payload (read it with Payload). name is used in
// errors. Nothing is verified yet: call Verify.
func ReadPackage(r io.Reader, name string) (*Package, error) {
	p := &Package{Name: name}
	var lead [LeadSize]byte
	if _, err := io.ReadFull(r, lead[:]); err != nil {
		return nil, fmt.Errorf("%s: reading the lead: %w", name, err)
	}
	var err error
	if p.Lead, err = parseLead(lead[:]); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if p.Signature, p.SignatureRaw, err = ReadHeader(r, true); err != nil {
		return nil, fmt.Errorf("%s: signature header: %w", name, err)
	}
	if p.Signature.Region() != TagHeaderSignatures {
		return nil, fmt.Errorf("%s: signature header has region %d, want %d", name, p.Signature.Region(), TagHeaderSignatures)
	}
	if p.Header, p.HeaderRaw, err = ReadHeader(r, false); err != nil {
		return nil, fmt.Errorf("%s: main header: %w", name, err)
	}
	if p.Header.Region() != TagHeaderImmutable {
		return nil, fmt.Errorf("%s: main header has region %d, want %d", name, p.Header.Region(), TagHeaderImmutable)
	}
	p.r = r
	return p, nil
}

// VerifyOptions say what Verify requires.
type VerifyOptions struct {
	// Keyring holds the trusted keys.
	Keyring *Keyring
	// RequireSignature refuses a package without an OpenPGP signature
	// (gpgcheck=1), and one whose payload the signature does not cover
	// (neither PAYLOADDIGEST in the signed header nor a legacy
	// header+payload signature). Without it, a signature that is present
	// is still checked.
	RequireSignature bool
	// NoSignature skips OpenPGP signatures altogether, as gpgcheck=0 has
	// dnf do; the digests are still checked. It overrides
	// RequireSignature.
	NoSignature bool
	// Now is the time at which keys must be valid. Zero means each
	// signature's creation time, as rpm 4 checks package signatures: a
	// package signed before its key expired still verifies, a revoked key
	// never does.
	Now time.Time
}

// Verify checks the headers: SHA256HEADER and SHA1HEADER (one at least)
// against the main header, and the OpenPGP header signature (RSAHEADER or
// DSAHEADER, else any of rpm 6's OPENPGP ones) against opts.Keyring. It returns the signing key
// ID ("" when unsigned and not required). The payload digest and legacy
// header+payload signatures are checked while Payload streams.
func (p *Package) Verify(opts VerifyOptions) (string, error) {
	digests := 0
	for _, d := range []struct {
		tag  Tag
		name string
		sum  func([]byte) []byte
	}{
		{TagSHA256Header, "SHA-256", func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
		{TagSHA1Header, "SHA-1", func(b []byte) []byte { s := sha1.Sum(b); return s[:] }},
	} {
		want, err := p.Signature.String(d.tag)
		if err != nil {
			continue
		}
		digests++
		if got := hex.EncodeToString(d.sum(p.HeaderRaw)); got != strings.ToLower(want) {
			return "", fmt.Errorf("%s: %w: header %s is %s, the signature header says %s", p.Name, ErrDigest, d.name, got, want)
		}
	}
	// rpm before 4.14 (EL7, Amazon Linux 2) wrote only SHA1HEADER.
	if digests == 0 {
		return "", fmt.Errorf("%s: %w", p.Name, ErrNoDigest)
	}
	if opts.NoSignature {
		return "", nil
	}
	subject := p.subject()
	for _, t := range []Tag{TagRSAHeader, TagDSAHeader} {
		e, ok := p.Signature.Get(t)
		if !ok {
			continue
		}
		sig := e.Data
		if err := opts.Keyring.VerifyReader(subject, bytes.NewReader(p.HeaderRaw), sig, opts.Now); err != nil {
			return SignatureKeyID(sig), err
		}
		return SignatureKeyID(sig), nil
	}
	// rpm 6 writes its signatures, v4 or v6, base64-encoded in OPENPGP;
	// one by a trusted key is enough.
	if sigs, err := p.Signature.Strings(TagOpenPGP); err == nil && len(sigs) > 0 {
		var first error
		for _, s := range sigs {
			sig, derr := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
			if derr != nil {
				return "", &SignatureError{Subject: subject, Err: fmt.Errorf("%w: OPENPGP: %v", ErrBadSignature, derr)}
			}
			err := opts.Keyring.VerifyReader(subject, bytes.NewReader(p.HeaderRaw), sig, opts.Now)
			if err == nil {
				return SignatureKeyID(sig), nil
			}
			if first == nil {
				first = err
			}
		}
		return "", first
	}
	if p.Signature.Has(SigTagPGP) || p.Signature.Has(SigTagGPG) {
		// Only a header+payload signature: checked by the payload reader.
		return "", nil
	}
	if opts.RequireSignature {
		return "", &SignatureError{Subject: subject, Err: ErrNoSignature}
	}
	return "", nil
}

// subject names the package in signature errors.
func (p *Package) subject() string {
	if nevra, err := p.NEVRA(); err == nil {
		return "package " + nevra + " (" + p.Name + ")"
	}
	return "package " + p.Name
}

// NEVRA returns name-[epoch:]version-release.arch of the main header.
func (p *Package) NEVRA() (string, error) {
	n, err := p.Header.String(TagName)
	if err != nil {
		return "", err
	}
	v, _ := p.Header.String(TagVersion)
	r, _ := p.Header.String(TagRelease)
	a, _ := p.Header.String(TagArch)
	e := ""
	if ep, err := p.Header.Int(TagEpoch); err == nil {
		e = fmt.Sprint(ep)
	}
	return n + "-" + EVR(e, v, r) + "." + a, nil
}

// payloadDigest is the digest a payload is checked against.
type payloadDigest struct {
	h    hash.Hash
	want string
	what string
}

// Payload returns the package's payload: the decompressed cpio archive,
// read file by file. The compressed payload is checked against
// PAYLOADDIGEST (SHA-256), and header+payload against the legacy MD5 and
// size of the signature header and the legacy PGP/GPG signature (with
// opts), as it streams; the reader returns an error wrapping ErrDigest or
// the keyring's errors at the end when one fails, so a caller must read
// it to io.EOF before trusting any of it. Call once.
func (p *Package) Payload(opts VerifyOptions) (*Archive, error) {
	if p.r == nil {
		return nil, fmt.Errorf("%s: payload already read", p.Name)
	}
	comp, _ := p.Header.String(TagPayloadCompressor)
	if f, err := p.Header.String(TagPayloadFormat); err == nil && f != "cpio" {
		return nil, fmt.Errorf("%s: payload format %q is not supported", p.Name, f)
	}
	v, err := p.verifier(opts)
	if err != nil {
		return nil, err
	}
	p.r = nil
	zr, err := Decompress(comp, bufio.NewReaderSize(v, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%s: payload: %w", p.Name, err)
	}
	files, err := p.FileList()
	if err != nil {
		_ = zr.Close()
		return nil, err
	}
	var total int64
	for _, f := range files {
		if f.Mode&ModeType == ModeRegular && f.Flags&FileGhost == 0 {
			if total += f.Size; total > MaxPayloadContent || f.Size > MaxPayloadContent {
				_ = zr.Close()
				return nil, fmt.Errorf("%s: payload: %w: its files declare more than %d bytes (at %s)", p.Name, ErrPayloadTooLarge, int64(MaxPayloadContent), f.Path)
			}
		}
	}
	return newArchive(p.Name, zr, v, files), nil
}

// verifier returns the reader of the compressed payload that checks it
// against the package's digests and legacy signature at its end.
func (p *Package) verifier(opts VerifyOptions) (*verifier, error) {
	v := &verifier{r: p.r, p: p, opts: opts}
	if algo, err := p.Header.Int(TagPayloadDigestAlgo); err == nil && algo != 8 {
		return nil, fmt.Errorf("%s: payload digest algorithm %d is not supported (want 8, SHA-256)", p.Name, algo)
	}
	if ds, err := p.Header.Strings(TagPayloadDigest); err == nil && len(ds) > 0 {
		v.digests = append(v.digests, payloadDigest{h: sha256.New(), want: strings.ToLower(ds[0]), what: "payload SHA-256"})
	}
	if md, err := p.Signature.Bytes(SigTagMD5); err == nil {
		h := md5.New()
		h.Write(p.HeaderRaw)
		v.digests = append(v.digests, payloadDigest{h: h, want: hex.EncodeToString(md), what: "header+payload MD5"})
	}
	// A legacy header+payload signature is checked when it is the only
	// signature, or the only one that covers the payload (rpm before
	// 4.14 wrote no PAYLOADDIGEST).
	headerOnly := p.Signature.Has(TagRSAHeader) || p.Signature.Has(TagDSAHeader) || p.Signature.Has(TagOpenPGP)
	for _, t := range []Tag{SigTagPGP, SigTagGPG} {
		if sig, err := p.Signature.Bytes(t); err == nil && !opts.NoSignature && (!headerOnly || !p.Header.Has(TagPayloadDigest)) {
			v.legacySig = sig
			v.legacyBuf = &bytes.Buffer{}
			v.legacyBuf.Write(p.HeaderRaw)
			break
		}
	}
	if opts.RequireSignature && !opts.NoSignature && !p.Header.Has(TagPayloadDigest) && v.legacySig == nil {
		return nil, &SignatureError{Subject: p.subject(), Err: fmt.Errorf("%w: the payload has no digest in the signed header", ErrNoSignature)}
	}
	if size, err := p.Signature.Int(TagLongSigSize); err == nil {
		v.size = size
	} else if size, err := p.Signature.Int(SigTagSize); err == nil {
		v.size = int64(uint32(size))
	}
	v.size -= int64(len(p.HeaderRaw))
	if v.size < 0 {
		v.size = -1
	}
	return v, nil
}

// maxLegacyBuffer bounds a payload buffered for a legacy
// header+payload signature.
const maxLegacyBuffer = 1 << 30

// verifier hashes the compressed payload as it is read and checks the
// digests at EOF.
type verifier struct {
	r         io.Reader
	p         *Package
	opts      VerifyOptions
	digests   []payloadDigest
	legacySig []byte
	legacyBuf *bytes.Buffer
	size      int64 // expected payload size, -1 unknown
	n         int64
	done      bool
	err       error
}

func (v *verifier) Read(b []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(b)
	for _, d := range v.digests {
		d.h.Write(b[:n])
	}
	if v.legacyBuf != nil {
		if v.legacyBuf.Len()+n > maxLegacyBuffer {
			v.err = fmt.Errorf("%s: payload too large for its legacy signature", v.p.Name)
			return 0, v.err
		}
		v.legacyBuf.Write(b[:n])
	}
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if cerr := v.check(); cerr != nil {
			v.err = cerr
			return n, cerr
		}
	}
	return n, err
}

// check compares the digests once the payload is read.
func (v *verifier) check() error {
	if v.done {
		return nil
	}
	v.done = true
	if v.size >= 0 && v.n != v.size {
		return fmt.Errorf("%s: %w: payload is %d bytes, the signature header says %d", v.p.Name, ErrDigest, v.n, v.size)
	}
	for _, d := range v.digests {
		if got := hex.EncodeToString(d.h.Sum(nil)); got != d.want {
			return fmt.Errorf("%s: %w: %s is %s, the package says %s", v.p.Name, ErrDigest, d.what, got, d.want)
		}
	}
	if v.legacySig != nil {
		if err := v.opts.Keyring.VerifyReader(v.p.subject(), bytes.NewReader(v.legacyBuf.Bytes()), v.legacySig, v.opts.Now); err != nil {
			return err
		}
	}
	return nil
}

// drain reads the rest of the compressed payload so that its digests are
// checked.
func (v *verifier) drain() error {
	_, err := io.Copy(io.Discard, v)
	return err
}

// OpenFile opens a package file, reads and verifies its headers and its
// whole compressed payload against every digest and signature (nothing
// is decompressed before it is verified), and returns the
// package ready to stream the payload from the start (Payload). Nothing
// of a package that fails is returned; the caller closes the file.
func OpenFile(path string, opts VerifyOptions) (*Package, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*Package, *os.File, error) {
		_ = f.Close()
		return nil, nil, err
	}
	p, err := ReadPackage(bufio.NewReader(f), path)
	if err != nil {
		return fail(err)
	}
	if _, err := p.Verify(opts); err != nil {
		return fail(err)
	}
	// The compressed payload is checked before anything decompresses it.
	v, err := p.verifier(opts)
	if err != nil {
		return fail(err)
	}
	if err := v.drain(); err != nil {
		return fail(err)
	}
	off := int64(LeadSize + len(p.SignatureRaw) + PadLen(len(p.SignatureRaw)) + len(p.HeaderRaw))
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fail(err)
	}
	p.r = bufio.NewReader(f)
	return p, f, nil
}
