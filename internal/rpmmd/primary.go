package rpmmd

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/patchloop/patchloop/internal/rpm"
)

// Package is one package of primary.xml.
type Package struct {
	Name    string
	Arch    string
	Epoch   string
	Version string
	Release string
	// Checksum is the checksum of the package file (its pkgid).
	Checksum Checksum
	// Location is the file's path relative to the repository root.
	Location string
	// LocationBase, when set, is the URL the location is relative to
	// instead of the repository root (xml:base).
	LocationBase string
	// Size is the package file's size; InstalledSize the sum of its
	// files' sizes.
	Size, InstalledSize int64
	// SourceRPM is the file name of the source package it was built from
	// ("bash-5.1.8-6.el9.src.rpm").
	SourceRPM string
	// HeaderStart and HeaderEnd are the byte range of the main header in
	// the package file.
	HeaderStart, HeaderEnd                      int64
	Provides, Requires, Conflicts, Obsoletes    []rpm.Dep
	Recommends, Suggests, Supplements, Enhances []rpm.Dep
	// Module is "name:stream" of the module stream whose build lists the
	// package in the repository's modules.yaml, "" for a package outside
	// modules.
	Module string
	// Files are the files primary lists for the package (those under
	// /etc, bin directories and /usr/lib/sendmail, as createrepo writes;
	// the whole list is in filelists.xml).
	Files []File
}

// File is a path primary.xml lists for a package.
type File struct {
	Path string
	// Type is "" for a file, "dir" or "ghost".
	Type string
}

// EVR returns [epoch:]version-release.
func (p *Package) EVR() string { return rpm.EVR(p.Epoch, p.Version, p.Release) }

// NEVRA returns name-[epoch:]version-release.arch.
func (p *Package) NEVRA() string { return p.Name + "-" + p.EVR() + "." + p.Arch }

// String returns the NEVRA.
func (p *Package) String() string { return p.NEVRA() }

// Limits of primary.xml parsing.
const (
	// maxPrimaryOpenSize bounds primary.xml uncompressed (Fedora's is
	// ~100 MiB).
	maxPrimaryOpenSize = 2 << 30
	// maxPackages bounds the packages of one primary.xml.
	maxPackages = 1 << 20
	// maxPackageXML bounds the XML of one <package>.
	maxPackageXML = 32 << 20
	// maxDeps bounds the entries of one dependency list, maxFiles the
	// files of one package.
	maxDeps  = 1 << 16
	maxFiles = 1 << 20
)

// xmlPackage is the XML shape of one <package>.
type xmlPackage struct {
	Type    string `xml:"type,attr"`
	Name    string `xml:"name"`
	Arch    string `xml:"arch"`
	Version struct {
		Epoch string `xml:"epoch,attr"`
		Ver   string `xml:"ver,attr"`
		Rel   string `xml:"rel,attr"`
	} `xml:"version"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Size struct {
		Package   int64 `xml:"package,attr"`
		Installed int64 `xml:"installed,attr"`
	} `xml:"size"`
	Location struct {
		Href string `xml:"href,attr"`
		Base string `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
	} `xml:"location"`
	Format struct {
		SourceRPM   string `xml:"sourcerpm"`
		HeaderRange struct {
			Start int64 `xml:"start,attr"`
			End   int64 `xml:"end,attr"`
		} `xml:"header-range"`
		Provides    xmlDeps `xml:"provides"`
		Requires    xmlDeps `xml:"requires"`
		Conflicts   xmlDeps `xml:"conflicts"`
		Obsoletes   xmlDeps `xml:"obsoletes"`
		Recommends  xmlDeps `xml:"recommends"`
		Suggests    xmlDeps `xml:"suggests"`
		Supplements xmlDeps `xml:"supplements"`
		Enhances    xmlDeps `xml:"enhances"`
		Files       []struct {
			Type string `xml:"type,attr"`
			Path string `xml:",chardata"`
		} `xml:"file"`
	} `xml:"format"`
}

// xmlDeps is a dependency list.
type xmlDeps struct {
	Entries []struct {
		Name  string `xml:"name,attr"`
		Flags string `xml:"flags,attr"`
		Epoch string `xml:"epoch,attr"`
		Ver   string `xml:"ver,attr"`
		Rel   string `xml:"rel,attr"`
		Pre   string `xml:"pre,attr"`
	} `xml:"entry"`
}

// deps converts a dependency list.
func (x xmlDeps) deps(what string) ([]rpm.Dep, error) {
	if len(x.Entries) > maxDeps {
		return nil, fmt.Errorf("%s: more than %d entries", what, maxDeps)
	}
	if len(x.Entries) == 0 {
		return nil, nil
	}
	out := make([]rpm.Dep, 0, len(x.Entries))
	for _, e := range x.Entries {
		if e.Name == "" {
			return nil, fmt.Errorf("%s: entry without a name", what)
		}
		s, ok := rpm.SenseOf(e.Flags)
		if !ok {
			return nil, fmt.Errorf("%s %s: unknown flags %q", what, e.Name, e.Flags)
		}
		d := rpm.Dep{Name: e.Name, Flags: s}
		if s != 0 {
			d.Version = rpm.EVR(e.Epoch, e.Ver, e.Rel)
		}
		if e.Pre == "1" || e.Pre == "true" {
			d.Flags |= rpm.SensePreReq
		}
		out = append(out, d)
	}
	return out, nil
}

// budgetReader fails once more than budget bytes were read since the
// last reset.
type budgetReader struct {
	r      io.Reader
	budget int64
	total  int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.budget <= 0 {
		return 0, fmt.Errorf("a <package> element is larger than %d bytes", maxPackageXML)
	}
	if int64(len(p)) > b.budget {
		p = p[:b.budget]
	}
	n, err := b.r.Read(p)
	b.budget -= int64(n)
	b.total += int64(n)
	if b.total > maxPrimaryOpenSize {
		return n, fmt.Errorf("primary.xml is larger than %d bytes", maxPrimaryOpenSize)
	}
	return n, err
}

// decodePackages streams the <package> elements of an uncompressed
// repodata file (name, "primary.xml", for errors), decoding each into a
// new T under the per-package size budget, at most maxPackages of them,
// and calls each with it and its position (from 1).
func decodePackages[T any](r io.Reader, name string, each func(n int, x *T) error) error {
	br := &budgetReader{r: r, budget: maxPackageXML}
	dec := xml.NewDecoder(br)
	dec.Strict = true
	n := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "package" {
			continue
		}
		if n++; n > maxPackages {
			return fmt.Errorf("%s: more than %d packages", name, maxPackages)
		}
		br.budget = maxPackageXML
		x := new(T)
		if err := dec.DecodeElement(x, &se); err != nil {
			return fmt.Errorf("%s package %d: %w", name, n, err)
		}
		if err := each(n, x); err != nil {
			return err
		}
	}
}

// ParsePrimary reads an uncompressed primary.xml, streaming, and calls
// each for every package (each may keep it). Every size is capped;
// checksum types other than sha1 and the SHA-2 family, and locations
// outside the repository, are errors naming the package.
func ParsePrimary(r io.Reader, each func(*Package) error) error {
	return decodePackages(r, "primary.xml", func(n int, x *xmlPackage) error {
		if x.Type != "" && x.Type != "rpm" {
			return nil
		}
		p, err := packageOf(x)
		if err != nil {
			return fmt.Errorf("primary.xml package %d (%s): %w", n, x.Name, err)
		}
		return each(p)
	})
}

// packageOf checks and converts one package.
func packageOf(x *xmlPackage) (*Package, error) {
	p := &Package{
		Name: strings.TrimSpace(x.Name), Arch: strings.TrimSpace(x.Arch),
		Epoch: x.Version.Epoch, Version: x.Version.Ver, Release: x.Version.Rel,
		Size: x.Size.Package, InstalledSize: x.Size.Installed,
		SourceRPM:   strings.TrimSpace(x.Format.SourceRPM),
		HeaderStart: x.Format.HeaderRange.Start, HeaderEnd: x.Format.HeaderRange.End,
	}
	if p.Name == "" || p.Arch == "" || p.Version == "" {
		return nil, errors.New("no name, arch or version")
	}
	if p.Epoch != "" {
		if _, err := strconv.ParseUint(p.Epoch, 10, 32); err != nil {
			return nil, fmt.Errorf("epoch %q: not a number", p.Epoch)
		}
	}
	if p.Size < 0 || p.InstalledSize < 0 {
		return nil, errors.New("negative size")
	}
	var err error
	if p.Checksum, err = newChecksum(x.Checksum.Type, x.Checksum.Value); err != nil {
		return nil, err
	}
	if p.Location, err = cleanLocation(x.Location.Href); err != nil {
		return nil, err
	}
	if b := x.Location.Base; b != "" {
		if !strings.HasPrefix(b, "http://") && !strings.HasPrefix(b, "https://") {
			return nil, fmt.Errorf("xml:base %q: not an http(s) URL", b)
		}
		p.LocationBase = b
	}
	lists := []struct {
		dst  *[]rpm.Dep
		src  xmlDeps
		what string
	}{
		{&p.Provides, x.Format.Provides, "provides"}, {&p.Requires, x.Format.Requires, "requires"},
		{&p.Conflicts, x.Format.Conflicts, "conflicts"}, {&p.Obsoletes, x.Format.Obsoletes, "obsoletes"},
		{&p.Recommends, x.Format.Recommends, "recommends"}, {&p.Suggests, x.Format.Suggests, "suggests"},
		{&p.Supplements, x.Format.Supplements, "supplements"}, {&p.Enhances, x.Format.Enhances, "enhances"},
	}
	for _, l := range lists {
		if *l.dst, err = l.src.deps(l.what); err != nil {
			return nil, err
		}
	}
	if len(x.Format.Files) > maxFiles {
		return nil, fmt.Errorf("more than %d files", maxFiles)
	}
	for _, f := range x.Format.Files {
		fp := strings.TrimSpace(f.Path)
		if !strings.HasPrefix(fp, "/") || path.Clean(fp) != fp {
			return nil, fmt.Errorf("file %q: not a clean absolute path", fp)
		}
		p.Files = append(p.Files, File{Path: fp, Type: f.Type})
	}
	return p, nil
}
