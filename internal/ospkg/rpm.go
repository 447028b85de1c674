package ospkg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// rpmDBPaths are the rpm database locations Trivy reads, in the order
// Inspect prefers them when more than one is present.
var rpmDBPaths = []string{
	"var/lib/rpm/rpmdb.sqlite",
	"usr/lib/sysimage/rpm/rpmdb.sqlite",
	"usr/share/rpm/rpmdb.sqlite",
	"var/lib/rpm/Packages.db",
	"usr/lib/sysimage/rpm/Packages.db",
	"var/lib/rpm/Packages",
	"usr/lib/sysimage/rpm/Packages",
}

// parseRPMDB reads the installed packages of an rpm database in any of its
// three formats, told apart by content: SQLite (rpmdb.sqlite, RHEL 9 and
// Fedora), NDB (Packages.db, SUSE) and Berkeley DB (Packages, RHEL 8 and
// older, Amazon Linux 2).
func parseRPMDB(ctx context.Context, data []byte) ([]Package, error) {
	var (
		blobs [][]byte
		err   error
	)
	switch {
	case isSQLite(data):
		blobs, err = readSQLite(ctx, data)
	case len(data) >= 4 && binary.LittleEndian.Uint32(data) == ndbMagic:
		blobs, err = readNDB(ctx, data)
	case isBDB(data):
		blobs, err = readBDB(ctx, data)
	default:
		err = errors.New("not an rpm database (SQLite, NDB or Berkeley DB)")
	}
	if err != nil {
		return nil, err
	}
	pkgs := make([]Package, 0, len(blobs))
	for i, b := range blobs {
		h, err := parseRPMHeader(b)
		if err != nil {
			return nil, fmt.Errorf("package record %d: %w", i+1, err)
		}
		pkgs = append(pkgs, rpmPackage(h))
	}
	return pkgs, nil
}

// rpmPackage turns a header into a Package the way Trivy does: the ID is
// name@version-release.arch, a missing arch reads "None", the source
// package comes from the SOURCERPM file name and shares the binary's epoch.
func rpmPackage(h rpmHeader) Package {
	p := Package{
		ID:              fmt.Sprintf("%s@%s-%s.%s", h.name, h.version, h.release, h.arch),
		Type:            RPM,
		Name:            h.name,
		Version:         h.version,
		Release:         h.release,
		Epoch:           h.epoch,
		Arch:            h.arch,
		SrcEpoch:        h.epoch,
		Modularitylabel: h.modularityLabel,
		Vendor:          h.vendor,
	}
	if p.Arch == "" {
		p.Arch = "None"
	}
	var ok bool
	p.SrcName, p.SrcVersion, p.SrcRelease, ok = splitRPMFileName(h.sourceRPM)
	if !ok {
		p.SrcName, p.SrcVersion, p.SrcRelease = h.name, h.version, h.release
	}
	return p
}

// splitRPMFileName splits "name-version-release.arch.rpm" (a SOURCERPM
// value such as "openssl-3.0.7-27.el9.src.rpm").
func splitRPMFileName(file string) (name, version, release string, ok bool) {
	if file == "" || file == "(none)" {
		return "", "", "", false
	}
	s := strings.TrimSuffix(file, ".rpm")
	arch := strings.LastIndexByte(s, '.')
	if arch < 0 {
		return "", "", "", false
	}
	rel := strings.LastIndexByte(s[:arch], '-')
	if rel < 0 {
		return "", "", "", false
	}
	ver := strings.LastIndexByte(s[:rel], '-')
	if ver < 0 {
		return "", "", "", false
	}
	return s[:ver], s[ver+1 : rel], s[rel+1 : arch], true
}
