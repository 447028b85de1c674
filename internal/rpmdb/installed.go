package rpmdb

import (
	"errors"
	"fmt"
	"time"

	"github.com/patchloop/patchloop/internal/rpm"
)

// Install is what rpm records about one install in the installed header.
type Install struct {
	// Time is INSTALLTIME (seconds, 32 bits as rpm stores it).
	Time time.Time
	// TID is INSTALLTID, the transaction id (rpm uses the transaction's
	// start time); every package of one transaction shares it.
	TID uint32
	// Color is INSTALLCOLOR, the transaction color of the image's rpm
	// (TransactionColor of its architecture).
	Color uint32
	// FileStates is FILESTATES, one rpm.FileState* per file; nil means
	// every file installed normally. Files not written (excluded
	// documentation, other languages) are rpm.FileStateNotInstalled.
	FileStates []byte
	// PackageDigests are the package file digests rpm 6 records
	// (PACKAGEDIGESTS/PACKAGEDIGESTALGOS) when its %_pkgverify_digests
	// asks; empty for rpm 4.
	PackageDigests []PackageDigest
}

// PackageDigest is one digest of a whole package file.
type PackageDigest struct {
	Algo uint32 // rpm's hash algorithm number (8 = SHA-256, 10 = SHA-512)
	Hex  string
}

// TransactionColor returns the transaction color rpm uses on arch (rpm's
// installplatform): 3 on 64-bit architectures with 32-bit multilib, 2 on
// ia64, 0 elsewhere.
func TransactionColor(arch string) uint32 {
	switch arch {
	case "x86_64", "amd64", "ia32e", "aarch64", "ppc64", "ppc64le", "ppc64p7", "s390x", "sparc64", "sparc64v",
		"mips64", "mips64el", "mips64r6", "mips64r6el", "riscv64", "loongarch64":
		return 3
	case "ia64":
		return 2
	}
	return 0
}

// sigTag maps a signature header tag to the tag rpm stores it under in an
// installed header, with the type and count rpm requires of it (count 0:
// any).
type sigTag struct {
	sig, main rpm.Tag
	typ       rpm.TagType
	count     uint32
	quirk     bool // may be in the main header instead (v4 packages)
}

// mergedSigTags are the signature tags rpm merges into the header it
// installs (rpm's headerMergeLegacySigs), in its order.
var mergedSigTags = []sigTag{
	{rpm.SigTagSize, rpm.TagSigSize, rpm.TypeInt32, 1, false},
	{rpm.SigTagPGP, rpm.TagSigPGP, rpm.TypeBin, 0, false},
	{rpm.SigTagMD5, rpm.TagSigMD5, rpm.TypeBin, 16, false},
	{rpm.SigTagGPG, rpm.TagSigGPG, rpm.TypeBin, 0, false},
	{rpm.SigTagPayloadSize, rpm.TagArchiveSize, rpm.TypeInt32, 1, true},
	{rpm.SigTagFileSignatures, rpm.TagFileSignatures, rpm.TypeStringArray, 0, true},
	{rpm.SigTagFileSignatureLength, rpm.TagFileSignatureLength, rpm.TypeInt32, 1, true},
	{rpm.SigTagVeritySignatures, rpm.TagVeritySignatures, rpm.TypeStringArray, 0, false},
	{rpm.SigTagVeritySignatureAlgo, rpm.TagVeritySignatureAlgo, rpm.TypeInt32, 1, false},
	{rpm.SigTagSHA1, rpm.TagSHA1Header, rpm.TypeString, 1, false},
	{rpm.SigTagSHA256, rpm.TagSHA256Header, rpm.TypeString, 1, false},
	{rpm.SigTagSHA3_256, rpm.TagSHA3_256Header, rpm.TypeString, 1, false},
	{rpm.SigTagDSA, rpm.TagDSAHeader, rpm.TypeBin, 0, false},
	{rpm.SigTagRSA, rpm.TagRSAHeader, rpm.TypeBin, 0, false},
	{rpm.SigTagLongSize, rpm.TagLongSigSize, rpm.TypeInt64, 1, false},
	{rpm.SigTagLongArchiveSize, rpm.TagLongArchiveSize, rpm.TypeInt64, 1, false},
	{rpm.SigTagOpenPGP, rpm.TagOpenPGP, rpm.TypeStringArray, 0, false},
}

// ErrBadPackage is wrapped by InstalledHeader when a package's headers
// cannot be installed as rpm would (the error names what).
var ErrBadPackage = errors.New("package headers not installable")

// DefaultColor is the transaction color of rpm on every 64-bit
// architecture images are built for (x86_64, aarch64, ppc64le, s390x).
const DefaultColor = 3

// InstalledHeader returns the header rpm stores for a package it installs:
// the package's main header with its immutable region byte for byte, the
// signature tags rpm merges in and the install-time tags, every file
// installed normally, with DefaultColor. The color is the image's rpm's,
// not the package's: for other images use Installed with DB.InstallColor
// or TransactionColor of the image's architecture. The result depends only
// on the inputs.
func InstalledHeader(sig, main *rpm.Header, installTime time.Time, tid uint32) (*rpm.Header, error) {
	return Installed(sig, main, Install{Time: installTime, TID: tid, Color: DefaultColor})
}

// Installed is InstalledHeader with every install-time value given.
func Installed(sig, main *rpm.Header, in Install) (*rpm.Header, error) {
	if main.Region() != rpm.TagHeaderImmutable {
		return nil, fmt.Errorf("%w: main header has no immutable region (rpm v3 packages are not supported)", ErrBadPackage)
	}
	blob, err := main.Blob()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPackage, err)
	}
	h, err := rpm.ParseBlob(blob) // a copy, so that main is left alone
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPackage, err)
	}
	name, err := h.String(rpm.TagName)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPackage, err)
	}
	for _, t := range []rpm.Tag{rpm.TagVersion, rpm.TagRelease} {
		if _, err := h.String(t); err != nil {
			return nil, fmt.Errorf("%w: package %s: %w", ErrBadPackage, name, err)
		}
	}
	format, _ := h.Int(rpm.TagRPMFormat)

	// rpm's headerMergeLegacySigs: no merged tag may be in the main
	// header already, except the v4 quirks when the signature header
	// lacks them.
	for _, st := range mergedSigTags {
		if !h.Has(st.main) {
			continue
		}
		if format < 6 && st.quirk && (sig == nil || !sig.Has(st.sig)) {
			continue
		}
		return nil, fmt.Errorf("%w: package %s: invalid signature tag %d: both headers have it", ErrBadPackage, name, st.main)
	}
	if sig != nil {
		for _, st := range mergedSigTags {
			if format >= 6 && st.sig >= rpm.TagName {
				continue // v6 packages: legacy signature tags ignored
			}
			e, ok := sig.Get(st.sig)
			if !ok {
				continue
			}
			if e.Type != st.typ || e.Count < 1 || e.Count > 16<<20 || (st.count != 0 && e.Count != st.count) {
				// rpm stops merging at the first bad tag and fails the read.
				return nil, fmt.Errorf("%w: package %s: invalid signature tag %d (type %s, count %d)", ErrBadPackage, name, st.main, e.Type, e.Count)
			}
			e.Tag = st.main
			h.Set(e)
		}
	}
	// rpm's applyRetrofits for binary packages without SOURCERPM.
	if !h.Has(rpm.TagSourceRPM) && !h.Has(rpm.TagSourcePackage) {
		h.Set(rpm.StringEntry(rpm.TagSourceRPM, "(none)"))
	}

	// The install-time tags of rpm's dbAdd, then the auxiliary ones.
	nfiles := 0
	if e, ok := h.Get(rpm.TagBasenames); ok {
		nfiles = int(e.Count)
	}
	if in.FileStates != nil && len(in.FileStates) != nfiles {
		return nil, fmt.Errorf("package %s: %d file states for %d files", name, len(in.FileStates), nfiles)
	}
	if nfiles > 0 {
		states := in.FileStates
		if states == nil {
			states = make([]byte, nfiles) // FileStateNormal
		}
		h.Set(rpm.CharEntry(rpm.TagFileStates, states...))
	}
	h.Set(rpm.Int32Entry(rpm.TagInstallTID, int32(in.TID)))
	h.Set(rpm.Int32Entry(rpm.TagInstallTime, int32(uint32(in.Time.Unix()))))
	h.Set(rpm.Int32Entry(rpm.TagInstallColor, int32(in.Color)))
	// INSTPREFIXES for relocatable packages (rpm's addPrefixes, no
	// relocation asked).
	if p, ok := h.Get(rpm.TagPrefixes); ok && !h.Has(rpm.TagInstPrefixes) {
		p.Tag = rpm.TagInstPrefixes
		h.Set(p)
	}
	if len(in.PackageDigests) > 0 && !h.Has(rpm.TagPackageDigests) && !h.Has(rpm.TagPackageDigestAlgos) {
		var hexes []string
		var algos []int32
		for _, d := range in.PackageDigests {
			hexes = append(hexes, d.Hex)
			algos = append(algos, int32(d.Algo))
		}
		h.Set(rpm.StringsEntry(rpm.TagPackageDigests, hexes))
		h.Set(rpm.Int32Entry(rpm.TagPackageDigestAlgos, algos...))
	}
	return h, nil
}
