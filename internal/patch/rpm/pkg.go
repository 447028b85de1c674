package rpm

import (
	"strings"

	"github.com/patchloop/patchloop/internal/rpm"
)

// FileInfo is one entry of a package's file list, as package rpm reads
// it from a header.
type FileInfo = rpm.FileInfo

// isDir reports whether a file list entry is a directory.
func isDir(f FileInfo) bool { return f.Mode&rpm.ModeType == rpm.ModeDir }

// isRegular reports whether a file list entry is a regular file.
func isRegular(f FileInfo) bool { return f.Mode&rpm.ModeType == rpm.ModeRegular }

// Package is an installed package or a repository candidate: its
// identity, dependencies and, for installed packages and read package
// files, its file list.
type Package struct {
	Name, Arch string
	EVR        EVR
	// SourceRPM is the source package file ("openssl-3.0.7-27.el9.src.rpm").
	SourceRPM string
	// ModularityLabel is "name:stream:version:context" for modular
	// packages (EL8), else "".
	ModularityLabel string
	Provides        []Dep
	Requires        []Dep
	Conflicts       []Dep
	Obsoletes       []Dep
	// Files is the file list; repository candidates carry only the paths
	// primary.xml lists (Mode and Digest unset).
	Files []FileInfo
	// DigestAlgo is the header's FILEDIGESTALGO (rpm's PGPHASHALGO_*:
	// 1 MD5, 8 SHA-256, …); 0 means MD5.
	DigestAlgo uint32
}

// NEVRA prints name-[epoch:]version-release.arch.
func (p *Package) NEVRA() string { return p.Name + "-" + p.EVR.String() + "." + p.Arch }

// String is the NEVRA.
func (p *Package) String() string { return p.NEVRA() }

// key identifies an installed package slot: name and architecture.
func (p *Package) key() string { return p.Name + "." + p.Arch }

// SourceName returns the name of the source package, from SOURCERPM
// ("openssl-3.0.7-27.el9.src.rpm" gives "openssl"); the package's own
// name when it has none.
func (p *Package) SourceName() string {
	s := strings.TrimSuffix(p.SourceRPM, ".rpm")
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return p.Name
	}
	s = s[:i]
	for range 2 { // release, version
		j := strings.LastIndexByte(s, '-')
		if j <= 0 {
			return p.Name
		}
		s = s[:j]
	}
	return s
}

// selfProvide is the "name = EVR" every package provides, and
// "name(arch) = EVR" for arch-specific ones, as rpmbuild adds them.
func (p *Package) selfProvides() []Dep {
	out := []Dep{{Name: p.Name, Flags: rpm.SenseEqual, Version: p.EVR.String()}}
	if p.Arch != "noarch" && p.Arch != "" {
		out = append(out, Dep{Name: p.Name + "(" + isaOf(p.Arch) + ")", Flags: rpm.SenseEqual, Version: p.EVR.String()})
	}
	return out
}

// isaOf returns rpm's ISA name of an architecture ("x86-64" for x86_64),
// as "%{?_isa}" spells it in dependencies.
func isaOf(arch string) string {
	switch arch {
	case "x86_64":
		return "x86-64"
	case "i386", "i486", "i586", "i686":
		return "x86-32"
	case "aarch64":
		return "aarch-64"
	case "ppc64le":
		return "ppc-64"
	case "s390x":
		return "s390-64"
	}
	return arch
}

// modularStream returns "name:stream" of a modularity label.
func modularStream(label string) string {
	parts := strings.SplitN(label, ":", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + ":" + parts[1]
}

// compatibleArch reports whether a candidate of arch c may replace an
// installed package of arch i: the same architecture, or noarch on
// either side.
func compatibleArch(i, c string) bool {
	return i == c || c == "noarch" || i == "noarch"
}
