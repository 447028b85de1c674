package apkrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
	"time"
)

// BuildTime is the build date of every test package (and the mtime of its
// files).
var BuildTime = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// File is one entry of a package's data.
type File struct {
	// Path is relative to the root ("usr/bin/hello").
	Path string
	// Type is a tar type flag; zero means a regular file.
	Type byte
	Body string
	// Mode defaults to 0644 (0755 for directories).
	Mode     int64
	UID, GID int
	Linkname string
	// Xattrs are extended attributes ("security.capability").
	Xattrs map[string]string
}

// Package is a package to publish or install.
type Package struct {
	Name, Version string
	// Arch defaults to "x86_64".
	Arch string
	// Origin defaults to Name.
	Origin string
	// Depends, Provides, InstallIf and Replaces are written as given.
	Depends, Provides, InstallIf, Replaces []string
	Files                                  []File
	// Scripts are install scripts by name (".post-upgrade").
	Scripts map[string]string
	// Triggers are the directories a ".trigger" script watches.
	Triggers []string
	// Key signs the package; nil means BuildKey().
	Key *Key
}

func (p Package) arch() string {
	if p.Arch == "" {
		return "x86_64"
	}
	return p.Arch
}

func (p Package) origin() string {
	if p.Origin == "" {
		return p.Name
	}
	return p.Origin
}

// FileName is the package's file name in a repository.
func (p Package) FileName() string { return p.Name + "-" + p.Version + ".apk" }

// Built is a package file and what an index and installed database say
// about it.
type Built struct {
	Package
	// Data is the .apk file: Signature, Control and DataStream, the three
	// gzip streams, concatenated.
	Data                           []byte
	Signature, Control, DataStream []byte
	// Checksum is the index's C: value ("Q1…").
	Checksum string
	// Entries are the data entries in archive order, directories
	// included, with their SHA-1 ("Q1…", for files and symlinks).
	Entries []BuiltEntry
	// InstalledSize is the sum of the file sizes.
	InstalledSize int64
}

// BuiltEntry is one data entry of a built package.
type BuiltEntry struct {
	File
	Checksum string
}

// entries returns the package's data entries sorted by path, with every
// parent directory.
func (p Package) entries() []File {
	byPath := map[string]File{}
	for _, f := range p.Files {
		f.Path = strings.Trim(f.Path, "/")
		if f.Type == 0 {
			f.Type = tar.TypeReg
		}
		if f.Mode == 0 {
			f.Mode = 0o644
			switch f.Type {
			case tar.TypeDir:
				f.Mode = 0o755
			case tar.TypeSymlink:
				f.Mode = 0o777
			}
		}
		byPath[f.Path] = f
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Type: tar.TypeDir, Mode: 0o755}
			}
		}
	}
	out := make([]File, 0, len(byPath))
	for _, f := range byPath {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Build makes the package's .apk file.
func Build(t testing.TB, p Package) *Built {
	t.Helper()
	b := &Built{Package: p}
	data, err := b.dataStream()
	if err != nil {
		t.Fatalf("apkrepo: %s: data: %v", p.Name, err)
	}
	datahash := sha256.Sum256(data)
	control, err := b.controlStream(hex.EncodeToString(datahash[:]))
	if err != nil {
		t.Fatalf("apkrepo: %s: control: %v", p.Name, err)
	}
	ctlSum := sha1.Sum(control)
	b.Checksum = "Q1" + base64.StdEncoding.EncodeToString(ctlSum[:])
	key := p.Key
	if key == nil {
		key = BuildKey()
	}
	sig, err := signatureStream(key, control)
	if err != nil {
		t.Fatalf("apkrepo: %s: signature: %v", p.Name, err)
	}
	b.Signature, b.Control, b.DataStream = sig, control, data
	b.Data = slices.Concat(sig, control, data)
	return b
}

// dataStream writes the data tar, gzipped, as abuild does: every entry
// with a PAX checksum record, the archive closed.
func (b *Built) dataStream() ([]byte, error) {
	var buf bytes.Buffer
	zw := newGzip(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range b.entries() {
		h := &tar.Header{Name: f.Path, Typeflag: f.Type, Mode: f.Mode, Uid: f.UID, Gid: f.GID, Uname: "root", Gname: "root",
			ModTime: BuildTime, Linkname: f.Linkname, Format: tar.FormatPAX, PAXRecords: map[string]string{}}
		if f.Type == tar.TypeDir {
			h.Name += "/"
		}
		e := BuiltEntry{File: f}
		var sum []byte
		switch f.Type {
		case tar.TypeReg:
			h.Size = int64(len(f.Body))
			b.InstalledSize += h.Size
			s := sha1.Sum([]byte(f.Body))
			sum = s[:]
		case tar.TypeSymlink:
			s := sha1.Sum([]byte(f.Linkname))
			sum = s[:]
		}
		if sum != nil {
			h.PAXRecords["APK-TOOLS.checksum.SHA1"] = hex.EncodeToString(sum)
			e.Checksum = "Q1" + base64.StdEncoding.EncodeToString(sum)
		}
		for k, v := range f.Xattrs {
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f.Body)); f.Type == tar.TypeReg && err != nil {
			return nil, err
		}
		b.Entries = append(b.Entries, e)
	}
	// Hard links take their target's checksum.
	for i, e := range b.Entries {
		if e.Type == tar.TypeLink {
			for _, t := range b.Entries {
				if t.Path == e.Linkname {
					b.Entries[i].Checksum = t.Checksum
				}
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PkgInfo returns the package's .PKGINFO.
func (b *Built) PkgInfo(datahash string) string {
	p := b.Package
	var s strings.Builder
	s.WriteString("# Generated by abuild 3.14.1-r0\n# using fakeroot version 1.36\n")
	kv := func(k, v string) { fmt.Fprintf(&s, "%s = %s\n", k, v) }
	kv("pkgname", p.Name)
	kv("pkgver", p.Version)
	kv("pkgdesc", "test package "+p.Name)
	kv("url", "https://example.org/"+p.origin())
	kv("builddate", fmt.Sprint(BuildTime.Unix()))
	kv("packager", "Patchloop Tests <tests@example.org>")
	kv("size", fmt.Sprint(b.InstalledSize))
	kv("arch", p.arch())
	kv("origin", p.origin())
	kv("maintainer", "Patchloop Tests <tests@example.org>")
	kv("license", "MIT")
	for _, r := range p.Replaces {
		kv("replaces", r)
	}
	for _, r := range p.Provides {
		kv("provides", r)
	}
	for _, r := range p.Depends {
		kv("depend", r)
	}
	if len(p.InstallIf) > 0 {
		kv("install_if", strings.Join(p.InstallIf, " "))
	}
	if len(p.Triggers) > 0 {
		kv("triggers", strings.Join(p.Triggers, " "))
	}
	kv("datahash", datahash)
	return s.String()
}

// controlStream writes the control tar, gzipped and cut (no end-of-archive
// blocks), as abuild does.
func (b *Built) controlStream(datahash string) ([]byte, error) {
	files := [][2]string{{".PKGINFO", b.PkgInfo(datahash)}}
	for _, name := range sortedKeys(b.Scripts) {
		files = append(files, [2]string{name, b.Scripts[name]})
	}
	return cutTarGzip(files, 0o755)
}

// signatureStream signs the control stream's SHA-1 with key.
func signatureStream(key *Key, control []byte) ([]byte, error) {
	sum := sha1.Sum(control)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.Private, crypto.SHA1, sum[:])
	if err != nil {
		return nil, err
	}
	return cutTarGzip([][2]string{{".SIGN.RSA." + key.Name, string(sig)}}, 0o644)
}

// cutTarGzip writes a gzipped tar of the files without the end-of-archive
// blocks. Scripts get mode scriptMode; .PKGINFO and signatures 0644.
func cutTarGzip(files [][2]string, scriptMode int64) ([]byte, error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, f := range files {
		mode := int64(0o644)
		if strings.HasPrefix(f[0], ".") && f[0] != ".PKGINFO" && !strings.HasPrefix(f[0], ".SIGN.") {
			mode = scriptMode
		}
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: mode, Size: int64(len(f[1])), ModTime: BuildTime, Uname: "root", Gname: "root", Format: tar.FormatUSTAR}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			return nil, err
		}
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := newGzip(&buf)
	if _, err := zw.Write(tb.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fullTarGzip writes a gzipped, complete tar of regular files.
func fullTarGzip(files [][2]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := newGzip(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), ModTime: BuildTime, Format: tar.FormatUSTAR}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// newGzip returns a gzip writer with a fixed header, so that the same
// content always compresses to the same bytes.
func newGzip(w *bytes.Buffer) *gzip.Writer {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	zw.ModTime = BuildTime
	return zw
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
