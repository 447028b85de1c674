package ospkg

import (
	"errors"
	"fmt"
)

// Size caps. Package databases come from images anyone can push, so every
// parser bounds what one file, one record and one field may hold: a crafted
// database fails with an error naming the file, the record and the cap
// instead of taking gigabytes of memory. The caps sit one to two orders of
// magnitude above the largest real databases; docs/formats-ospkg.md lists
// them with the sizes real images have.
const (
	// MaxReleaseFileSize caps os-release, lsb-release, *-release,
	// debian_version, alpine-release and etc/apk/repositories (real ones
	// are under 1 KiB).
	MaxReleaseFileSize = 1 << 20
	// MaxTextDBSize caps var/lib/dpkg/status and lib/apk/db/installed
	// (a big Debian image's status file is 3–5 MB, Alpine's installed a few MB).
	MaxTextDBSize = 64 << 20
	// MaxStatusDFileSize caps one file of var/lib/dpkg/status.d (one
	// package's paragraph, a few KB).
	MaxStatusDFileSize = 1 << 20
	// MaxBuildInfoFileSize caps one file of root/buildinfo,
	// root/buildinfo/content_manifests and usr/share/buildinfo (Red Hat's
	// content manifests and build Dockerfiles take a few KB).
	MaxBuildInfoFileSize = 4 << 20
	// MaxRPMDBSize caps an rpm database (a RHEL or Fedora image with a
	// thousand packages has 50–100 MB).
	MaxRPMDBSize = 192 << 20
	// MaxFilesTotal caps the content of all the files one Inspect reads
	// together, so that the per-file caps cannot add up (one rpm database
	// at its cap plus every text database and release file).
	MaxFilesTotal = 224 << 20

	// MaxLineSize caps one line of dpkg status or apk installed (real
	// Depends or Provides lines reach tens of KB).
	MaxLineSize = 1 << 20
	// MaxIdentitySize caps the fields an inventory keeps: name, version,
	// architecture, source or origin, rpm SOURCERPM, VENDOR and
	// MODULARITYLABEL (real ones are under 300 bytes).
	MaxIdentitySize = 4 << 10
	// MaxDpkgParagraphSize caps one dpkg status paragraph (a few KB; a
	// long Description or Conffiles list a few tens of KB).
	MaxDpkgParagraphSize = 8 << 20
	// MaxApkRecordSize caps one apk installed record, which lists every
	// file of the package (texmf-dist's 80,000 files take about 7 MB).
	MaxApkRecordSize = 32 << 20
	// MaxRPMHeaderSize caps one rpm header blob (a package of tens of
	// thousands of files has a header of a few MB).
	MaxRPMHeaderSize = 64 << 20
	// MaxPackages caps the packages of one database file (real images have
	// at most a few thousand).
	MaxPackages = 100_000
	// MaxInventorySize caps the memory the packages of one database file
	// take (their strings plus 256 bytes each; a few thousand real packages
	// take 1–2 MB).
	MaxInventorySize = 32 << 20
	// MaxCacheEntrySize caps one inventory cache entry (a few thousand
	// packages take a few MB of JSON).
	MaxCacheEntrySize = 64 << 20
)

// ErrTooLarge is matched (errors.Is) by every error that reports input
// over one of the size caps.
var ErrTooLarge = errors.New("over Patchloop's size cap for package databases (see docs/formats-ospkg.md)")

// tooLarge reports what (a field, a record) of size bytes over limit.
func tooLarge(what string, size, limit int) error {
	return fmt.Errorf("%s of %d bytes is over the %d-byte cap: %w", what, size, limit, ErrTooLarge)
}

// errTooManyPackages reports a database of more than MaxPackages packages.
var errTooManyPackages = fmt.Errorf("more than %d packages: %w", MaxPackages, ErrTooLarge)

// pkgList collects the packages of one database file within MaxPackages and
// MaxInventorySize.
type pkgList struct {
	pkgs []Package
	size int
}

// add appends p, or reports that the database is over a cap.
func (l *pkgList) add(p Package) error {
	if len(l.pkgs) == MaxPackages {
		return errTooManyPackages
	}
	n := p.footprint()
	if l.size+n > MaxInventorySize {
		return tooLarge("inventory", l.size+n, MaxInventorySize)
	}
	l.pkgs, l.size = append(l.pkgs, p), l.size+n
	return nil
}

// footprint estimates the bytes p takes in memory and in a cache entry.
func (p *Package) footprint() int {
	return 256 + len(p.ID) + len(p.Name) + len(p.Version) + len(p.Release) + len(p.Arch) +
		len(p.SrcName) + len(p.SrcVersion) + len(p.SrcRelease) + len(p.Modularitylabel) + len(p.Vendor) + len(p.File)
}
