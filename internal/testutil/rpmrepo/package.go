package rpmrepo

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/patchloop/patchloop/internal/rpm"
)

// File is one file of a test package.
type File struct {
	// Path is absolute ("/usr/bin/hello").
	Path string
	// Mode is the permission bits; 0 means 0644 (0755 for directories
	// and symlinks' 0777).
	Mode uint16
	// Content is a regular file's content.
	Content []byte
	// Dir makes a directory, LinkTo a symlink to the target.
	Dir    bool
	LinkTo string
	// HardLinkOf makes the file a hard link of another regular file of
	// the package (its Path).
	HardLinkOf string
	// User and Group own the file; "" means root.
	User, Group string
	// Flags are its attributes: rpm.FileConfig, rpm.FileNoReplace,
	// rpm.FileGhost, rpm.FileDoc…
	Flags rpm.FileFlags
	// Caps are file capabilities as rpm writes them ("cap_net_raw=ep").
	Caps string
	// MTime defaults to the package's build time.
	MTime uint32
}

// Package describes a test package.
type Package struct {
	Name, Epoch, Version, Release string
	// Arch defaults to x86_64.
	Arch string
	// SourceRPM defaults to name-version-release.src.rpm.
	SourceRPM string
	// Vendor is the VENDOR tag ("Rocky Enterprise Software Foundation");
	// "" leaves it out (scanners take such packages for third-party ones).
	Vendor string
	// ModularityLabel is the MODULARITYLABEL tag of a modular package
	// ("nodejs:18:9030020231120:rhel9"); "" leaves it out.
	ModularityLabel string
	// Provides are added to the package's own "name = evr" and
	// "name(arch) = evr" provides.
	Provides, Requires, Conflicts, Obsoletes []rpm.Dep
	Files                                    []File
	// Compressor is "gzip" (default), "xz" or "zstd".
	Compressor string
	// PreIn, PostIn, PreUn, PostUn, PreTrans and PostTrans are optional
	// /bin/sh scriptlets.
	PreIn, PostIn, PreUn, PostUn, PreTrans, PostTrans string
	// ScriptletRequires adds the "Requires(pre): /bin/sh"-like
	// dependencies rpmbuild adds for each scriptlet (off by default, so
	// that test images need not provide /bin/sh).
	ScriptletRequires bool
	// BuildTime defaults to a fixed time.
	BuildTime uint32
	// Key signs the package; nil means RepoKey. Unsigned leaves RSAHEADER
	// out.
	Key      *Key
	Unsigned bool
	// LegacySignature signs header and payload together (the PGP tag of
	// rpm before 4.1) instead of the header alone (RSAHEADER).
	LegacySignature bool
	// NoPayloadDigest leaves PAYLOADDIGEST out, as rpm before 4.14 did.
	NoPayloadDigest bool
	// EL7 writes the signature header as rpm 4.11 did (EL7, Amazon Linux
	// 2): SHA1HEADER without SHA256HEADER, RSAHEADER and the header+payload
	// PGP signature, no PAYLOADDIGEST.
	EL7 bool
	// OpenPGPTag puts the header signature in rpm 6's OPENPGP tag (base64,
	// a string array; ExtraKeys sign too) instead of RSAHEADER.
	OpenPGPTag bool
	ExtraKeys  []*Key
}

// defaultBuildTime is 2024-06-01.
const defaultBuildTime = 1717200000

// withDefaults fills the defaults in.
func (p Package) withDefaults() Package {
	if p.Arch == "" {
		p.Arch = "x86_64"
	}
	if p.SourceRPM == "" {
		p.SourceRPM = p.Name + "-" + p.Version + "-" + p.Release + ".src.rpm"
	}
	if p.Compressor == "" {
		p.Compressor = "gzip"
	}
	if p.BuildTime == 0 {
		p.BuildTime = defaultBuildTime
	}
	if p.Key == nil && !p.Unsigned {
		p.Key = RepoKey()
	}
	return p
}

// EVR returns [epoch:]version-release.
func (p Package) EVR() string { return rpm.EVR(p.Epoch, p.Version, p.Release) }

// NEVRA returns name-[epoch:]version-release.arch.
func (p Package) NEVRA() string { return p.Name + "-" + p.EVR() + "." + p.withDefaults().Arch }

// FileName returns name-version-release.arch.rpm.
func (p Package) FileName() string {
	return p.Name + "-" + p.Version + "-" + p.Release + "." + p.withDefaults().Arch + ".rpm"
}

// Built is a package file with what a repository lists about it.
type Built struct {
	Package Package
	// Data is the whole .rpm file.
	Data []byte
	// HeaderStart and HeaderEnd delimit the main header in Data.
	HeaderStart, HeaderEnd int64
	// InstalledSize is the sum of the regular files' sizes.
	InstalledSize int64
	// ArchiveSize is the uncompressed payload's size.
	ArchiveSize int64
	// Files are the header's files, sorted by path.
	Files []File
	// Provides and Requires are the header's, the package's own provides
	// and the rpmlib() and scriptlet requires included.
	Provides, Requires []rpm.Dep
}

// SHA256 returns the hex SHA-256 of the file.
func (b *Built) SHA256() string {
	s := sha256.Sum256(b.Data)
	return hex.EncodeToString(s[:])
}

// archSuffix is the arch-specific provide rpm adds ("(x86-64)").
func archSuffix(arch string) string {
	switch arch {
	case "x86_64":
		return "(x86-64)"
	case "aarch64", "ppc64le", "ppc64", "s390x", "riscv64":
		return "(" + arch + ")"
	}
	return ""
}

// Build builds the package file. It fails (as rpmbuild would) on files
// that are not absolute clean paths or a hard link to a missing file.
func Build(p Package) (*Built, error) {
	p = p.withDefaults()
	files := slices.Clone(p.Files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	index := map[string]int{}
	for i, f := range files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return nil, fmt.Errorf("package %s: file %q is not a clean absolute path", p.Name, f.Path)
		}
		if _, dup := index[f.Path]; dup {
			return nil, fmt.Errorf("package %s: file %q twice", p.Name, f.Path)
		}
		index[f.Path] = i
	}
	n := len(files)
	var (
		dirs      []string
		dirIdx    = make([]int32, n)
		bases     = make([]string, n)
		modes     = make([]int16, n)
		sizes     = make([]int32, n)
		mtimes    = make([]int32, n)
		digests   = make([]string, n)
		linktos   = make([]string, n)
		flags     = make([]int32, n)
		users     = make([]string, n)
		groups    = make([]string, n)
		inodes    = make([]int32, n)
		devices   = make([]int32, n)
		rdevs     = make([]int16, n)
		verify    = make([]int32, n)
		langs     = make([]string, n)
		caps      = make([]string, n)
		anyCaps   bool
		installed int64
	)
	nlinks := map[int]int{}
	for i, f := range files {
		target := i
		if f.HardLinkOf != "" {
			t, ok := index[f.HardLinkOf]
			if !ok || files[t].Dir || files[t].LinkTo != "" || files[t].HardLinkOf != "" {
				return nil, fmt.Errorf("package %s: %s: hard link target %q is not a regular file of the package", p.Name, f.Path, f.HardLinkOf)
			}
			target = t
			files[i].Content, files[i].Mode, files[i].User, files[i].Group, files[i].MTime = files[t].Content, files[t].Mode, files[t].User, files[t].Group, files[t].MTime
			f = files[i]
		}
		nlinks[target]++
		d, b := path.Split(f.Path)
		k := slices.Index(dirs, d)
		if k < 0 {
			dirs = append(dirs, d)
			k = len(dirs) - 1
		}
		dirIdx[i], bases[i] = int32(k), b
		mode := f.Mode
		switch {
		case f.Dir:
			if mode == 0 {
				mode = 0o755
			}
			mode |= rpm.ModeDir
		case f.LinkTo != "":
			mode = 0o777 | rpm.ModeSymlink
			linktos[i] = f.LinkTo
			sizes[i] = int32(len(f.LinkTo))
		default:
			if mode == 0 {
				mode = 0o644
			}
			mode |= rpm.ModeRegular
			sizes[i] = int32(len(files[i].Content))
			sum := sha256.Sum256(files[i].Content)
			digests[i] = hex.EncodeToString(sum[:])
			if f.HardLinkOf == "" {
				installed += int64(len(files[i].Content))
			}
		}
		modes[i] = int16(mode)
		mt := f.MTime
		if mt == 0 {
			mt = p.BuildTime
		}
		mtimes[i], flags[i] = int32(mt), int32(f.Flags)
		users[i], groups[i] = cmpOr(f.User, "root"), cmpOr(f.Group, "root")
		inodes[i], devices[i], verify[i] = int32(target+1), 1, -1
		if f.Caps != "" {
			caps[i], anyCaps = f.Caps, true
		}
	}
	// The payload: newc entries sorted by path, hard link content with
	// the last link, ghosts left out.
	var cpio bytes.Buffer
	lastLink := map[int]int{}
	for i := range files {
		lastLink[int(inodes[i])-1] = i
	}
	for i, f := range files {
		if f.Flags&rpm.FileGhost != 0 {
			continue
		}
		var data []byte
		switch {
		case f.Dir:
		case f.LinkTo != "":
			data = []byte(f.LinkTo)
		default:
			if lastLink[int(inodes[i])-1] == i {
				data = files[i].Content
			}
		}
		writeNewc(&cpio, "."+f.Path, uint32(inodes[i]), uint32(uint16(modes[i])), uint32(nlinks[int(inodes[i])-1]), uint32(mtimes[i]), data)
	}
	writeNewc(&cpio, "TRAILER!!!", 0, 0, 1, 0, nil)
	archiveSize := int64(cpio.Len())
	payload, err := compress(p.Compressor, cpio.Bytes())
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", p.Name, err)
	}
	paySum := sha256.Sum256(payload)

	h := rpm.NewHeader(rpm.TagHeaderImmutable)
	set := h.Set
	set(rpm.StringsEntry(rpm.TagHeaderI18NTable, []string{"C"}))
	set(rpm.StringEntry(rpm.TagName, p.Name))
	set(rpm.StringEntry(rpm.TagVersion, p.Version))
	set(rpm.StringEntry(rpm.TagRelease, p.Release))
	if p.Epoch != "" {
		e, err := strconv.ParseInt(p.Epoch, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("package %s: epoch %q", p.Name, p.Epoch)
		}
		set(rpm.Int32Entry(rpm.TagEpoch, int32(e)))
	}
	set(rpm.I18NEntry(rpm.TagSummary, "Test package "+p.Name))
	set(rpm.I18NEntry(rpm.TagDescription, "Test package "+p.Name+", built by Patchloop's tests."))
	set(rpm.Int32Entry(rpm.TagBuildTime, int32(p.BuildTime)))
	set(rpm.StringEntry(rpm.TagBuildHost, "patchloop.test"))
	set(rpm.Int32Entry(rpm.TagSize, int32(installed)))
	set(rpm.StringEntry(rpm.TagLicense, "MIT"))
	set(rpm.I18NEntry(rpm.TagGroup, "Unspecified"))
	if p.Vendor != "" {
		set(rpm.StringEntry(rpm.TagVendor, p.Vendor))
	}
	if p.ModularityLabel != "" {
		set(rpm.StringEntry(rpm.TagModularityLabel, p.ModularityLabel))
	}
	set(rpm.StringEntry(rpm.TagOS, "linux"))
	set(rpm.StringEntry(rpm.TagArch, p.Arch))
	set(rpm.StringEntry(rpm.TagSourceRPM, p.SourceRPM))
	set(rpm.StringEntry(rpm.TagRPMVersion, "4.18.0"))
	set(rpm.StringEntry(rpm.TagPlatform, p.Arch+"-redhat-linux-gnu"))
	set(rpm.StringEntry(rpm.TagPayloadFormat, "cpio"))
	set(rpm.StringEntry(rpm.TagPayloadCompressor, p.Compressor))
	set(rpm.StringEntry(rpm.TagPayloadFlags, "9"))
	if !p.NoPayloadDigest && !p.EL7 {
		set(rpm.StringsEntry(rpm.TagPayloadDigest, []string{hex.EncodeToString(paySum[:])}))
		set(rpm.Int32Entry(rpm.TagPayloadDigestAlgo, 8))
	}
	set(rpm.StringEntry(rpm.TagEncoding, "utf-8"))
	if n > 0 {
		set(rpm.StringsEntry(rpm.TagBasenames, bases))
		set(rpm.StringsEntry(rpm.TagDirnames, dirs))
		set(rpm.Int32Entry(rpm.TagDirIndexes, dirIdx...))
		set(rpm.Int16Entry(rpm.TagFileModes, modes...))
		set(rpm.Int32Entry(rpm.TagFileSizes, sizes...))
		set(rpm.Int32Entry(rpm.TagFileMtimes, mtimes...))
		set(rpm.StringsEntry(rpm.TagFileDigests, digests))
		set(rpm.StringsEntry(rpm.TagFileLinkTos, linktos))
		set(rpm.Int32Entry(rpm.TagFileFlags, flags...))
		set(rpm.StringsEntry(rpm.TagFileUsername, users))
		set(rpm.StringsEntry(rpm.TagFileGroupname, groups))
		set(rpm.Int32Entry(rpm.TagFileInodes, inodes...))
		set(rpm.Int32Entry(rpm.TagFileDevices, devices...))
		set(rpm.Int16Entry(rpm.TagFileRdevs, rdevs...))
		set(rpm.Int32Entry(rpm.TagFileVerifyFlags, verify...))
		set(rpm.StringsEntry(rpm.TagFileLangs, langs))
		set(rpm.Int32Entry(rpm.TagFileDigestAlgo, 8))
		if anyCaps {
			set(rpm.StringsEntry(rpm.TagFileCaps, caps))
		}
	}
	evr := p.EVR()
	provides := []rpm.Dep{{Name: p.Name, Flags: rpm.SenseEqual, Version: evr}}
	if s := archSuffix(p.Arch); s != "" {
		provides = append(provides, rpm.Dep{Name: p.Name + s, Flags: rpm.SenseEqual, Version: evr})
	}
	provides = append(provides, p.Provides...)
	requires := slices.Clone(p.Requires)
	lib := func(name, ver string) rpm.Dep {
		return rpm.Dep{Name: "rpmlib(" + name + ")", Flags: rpm.SenseLess | rpm.SenseEqual | rpm.SenseRPMLib, Version: ver}
	}
	requires = append(requires, lib("CompressedFileNames", "3.0.4-1"), lib("FileDigests", "4.6.0-1"), lib("PayloadFilesHavePrefix", "4.0-1"))
	switch p.Compressor {
	case "xz":
		requires = append(requires, lib("PayloadIsXz", "5.2-1"))
	case "zstd":
		requires = append(requires, lib("PayloadIsZstd", "5.4.18-1"))
	}
	if anyCaps {
		requires = append(requires, lib("FileCaps", "4.6.1-1"))
	}
	for _, sc := range []struct {
		body string
		when rpm.Sense
	}{{p.PreIn, rpm.SenseScriptPre}, {p.PostIn, rpm.SenseScriptPost}, {p.PreUn, rpm.SenseScriptPreUn}, {p.PostUn, rpm.SenseScriptPostUn}, {p.PreTrans, rpm.SensePreTrans}, {p.PostTrans, rpm.SensePostTrans}} {
		if sc.body != "" && p.ScriptletRequires {
			requires = append(requires, rpm.Dep{Name: "/bin/sh", Flags: rpm.SenseInterp | sc.when})
		}
	}
	setDeps(h, rpm.TagProvideName, rpm.TagProvideFlags, rpm.TagProvideVersion, provides)
	setDeps(h, rpm.TagRequireName, rpm.TagRequireFlags, rpm.TagRequireVersion, requires)
	setDeps(h, rpm.TagConflictName, rpm.TagConflictFlags, rpm.TagConflictVersion, p.Conflicts)
	setDeps(h, rpm.TagObsoleteName, rpm.TagObsoleteFlags, rpm.TagObsoleteVersion, p.Obsoletes)
	for _, sc := range []struct {
		body         string
		script, prog rpm.Tag
	}{
		{p.PreIn, rpm.TagPreIn, rpm.TagPreInProg}, {p.PostIn, rpm.TagPostIn, rpm.TagPostInProg},
		{p.PreUn, rpm.TagPreUn, rpm.TagPreUnProg}, {p.PostUn, rpm.TagPostUn, rpm.TagPostUnProg},
		{p.PreTrans, rpm.TagPreTrans, rpm.TagPreTransProg}, {p.PostTrans, rpm.TagPostTrans, rpm.TagPostTransProg},
	} {
		if sc.body != "" {
			set(rpm.StringEntry(sc.script, sc.body))
			set(rpm.StringEntry(sc.prog, "/bin/sh"))
		}
	}
	main, err := h.Marshal()
	if err != nil {
		return nil, fmt.Errorf("package %s: main header: %w", p.Name, err)
	}

	sig := rpm.NewHeader(rpm.TagHeaderSignatures)
	s1 := sha1.Sum(main)
	s256 := sha256.Sum256(main)
	m5 := md5.New()
	m5.Write(main)
	m5.Write(payload)
	sig.Set(rpm.StringEntry(rpm.TagSHA1Header, hex.EncodeToString(s1[:])))
	if !p.EL7 {
		sig.Set(rpm.StringEntry(rpm.TagSHA256Header, hex.EncodeToString(s256[:])))
	}
	sig.Set(rpm.Int32Entry(rpm.SigTagSize, int32(len(main)+len(payload))))
	sig.Set(rpm.BinEntry(rpm.SigTagMD5, m5.Sum(nil)))
	sig.Set(rpm.Int32Entry(rpm.SigTagPayloadSize, int32(archiveSize)))
	switch {
	case p.Unsigned:
	case p.LegacySignature:
		sig.Set(rpm.BinEntry(rpm.SigTagPGP, p.Key.Sign(append(bytes.Clone(main), payload...))))
	case p.OpenPGPTag:
		var sigs []string
		for _, k := range append([]*Key{p.Key}, p.ExtraKeys...) {
			sigs = append(sigs, base64.StdEncoding.EncodeToString(k.Sign(main)))
		}
		sig.Set(rpm.StringsEntry(rpm.TagOpenPGP, sigs))
	case p.EL7:
		sig.Set(rpm.BinEntry(rpm.TagRSAHeader, p.Key.Sign(main)))
		sig.Set(rpm.BinEntry(rpm.SigTagPGP, p.Key.Sign(append(bytes.Clone(main), payload...))))
	default:
		sig.Set(rpm.BinEntry(rpm.TagRSAHeader, p.Key.Sign(main)))
	}
	sigData, err := sig.Marshal()
	if err != nil {
		return nil, fmt.Errorf("package %s: signature header: %w", p.Name, err)
	}
	var out bytes.Buffer
	out.Write(rpm.MarshalLead(p.Name+"-"+p.Version+"-"+p.Release, 1, 1))
	out.Write(sigData)
	out.Write(make([]byte, rpm.PadLen(len(sigData))))
	start := int64(out.Len())
	out.Write(main)
	end := int64(out.Len())
	out.Write(payload)
	return &Built{Package: p, Data: out.Bytes(), HeaderStart: start, HeaderEnd: end, InstalledSize: installed, ArchiveSize: archiveSize, Files: files, Provides: provides, Requires: requires}, nil
}

// setDeps sets a dependency triple.
func setDeps(h *rpm.Header, nameTag, flagTag, verTag rpm.Tag, deps []rpm.Dep) {
	if len(deps) == 0 {
		return
	}
	names := make([]string, len(deps))
	fl := make([]int32, len(deps))
	vers := make([]string, len(deps))
	for i, d := range deps {
		names[i], fl[i], vers[i] = d.Name, int32(d.Flags), d.Version
	}
	h.Set(rpm.StringsEntry(nameTag, names))
	h.Set(rpm.Int32Entry(flagTag, fl...))
	h.Set(rpm.StringsEntry(verTag, vers))
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeNewc writes one newc cpio entry, padded.
func writeNewc(w *bytes.Buffer, name string, ino, mode, nlink, mtime uint32, data []byte) {
	fmt.Fprintf(w, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", ino, mode, 0, 0, nlink, mtime, len(data), 0, 0, 0, 0, len(name)+1, 0)
	w.WriteString(name)
	w.WriteByte(0)
	for w.Len()%4 != 0 {
		w.WriteByte(0)
	}
	w.Write(data)
	for w.Len()%4 != 0 {
		w.WriteByte(0)
	}
}

// compress compresses a payload.
func compress(name string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch name {
	case "gzip":
		w, err = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	case "xz":
		w, err = xz.NewWriter(&buf)
	case "zstd":
		w, err = zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	default:
		return nil, fmt.Errorf("compressor %q: want gzip, xz or zstd", name)
	}
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
