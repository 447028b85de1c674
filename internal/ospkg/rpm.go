package ospkg

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
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
//
// Each header is parsed as soon as it is read, so that at most one copied
// header blob is alive at a time; blobs over MaxRPMHeaderSize, string tags
// over MaxIdentitySize and more than MaxPackages packages are errors.
func parseRPMDB(ctx context.Context, data []byte) ([]Package, error) {
	var (
		pkgs pkgList
		i    int
	)
	each := func(b []byte) error {
		i++
		if len(b) > MaxRPMHeaderSize {
			return fmt.Errorf("package record %d: %w", i, tooLarge("header", len(b), MaxRPMHeaderSize))
		}
		h, err := parseRPMHeader(b)
		if err == nil {
			err = pkgs.add(rpmPackage(h))
		}
		if err != nil {
			return fmt.Errorf("package record %d: %w", i, err)
		}
		return nil
	}
	var err error
	switch {
	case isSQLite(data):
		err = eachSQLiteBlob(ctx, data, each)
	case len(data) >= 4 && binary.LittleEndian.Uint32(data) == ndbMagic:
		err = eachNDBBlob(ctx, data, each)
	case isBDB(data):
		err = eachBDBBlob(ctx, data, each)
	default:
		err = errors.New("not an rpm database (SQLite, NDB or Berkeley DB)")
	}
	if err != nil {
		return nil, err
	}
	return pkgs.pkgs, nil
}

// RPMDBPaths are the rpm database files Inspect reads, in the order it
// prefers them when more than one is present (image paths).
func RPMDBPaths() []string { return slices.Clone(rpmDBPaths) }

// EachRPMHeaderBlob calls fn with each header blob of an rpm database in
// any of its formats (SQLite, NDB, Berkeley DB), in the database's
// order. A blob is valid only during the call.
func EachRPMHeaderBlob(ctx context.Context, data []byte, fn func([]byte) error) error {
	switch {
	case isSQLite(data):
		return eachSQLiteBlob(ctx, data, fn)
	case len(data) >= 4 && binary.LittleEndian.Uint32(data) == ndbMagic:
		return eachNDBBlob(ctx, data, fn)
	case isBDB(data):
		return eachBDBBlob(ctx, data, fn)
	}
	return errors.New("not an rpm database (SQLite, NDB or Berkeley DB)")
}

// collect gathers copies of the blobs an each*Blob function yields (for
// tests and fuzzing of the database readers alone).
func collect(ctx context.Context, data []byte, each func(context.Context, []byte, func([]byte) error) error) ([][]byte, error) {
	var blobs [][]byte
	err := each(ctx, data, func(b []byte) error {
		blobs = append(blobs, bytes.Clone(b))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return blobs, nil
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
