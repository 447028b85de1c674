package ospkg

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// Package is one installed OS package, with the fields a Trivy report has.
type Package struct {
	// ID identifies the package as Trivy's PkgID does: "name@version" for
	// dpkg (version as written, epoch included) and apk,
	// "name@version-release.arch" for rpm.
	ID string `json:"id"`
	// Type is the package database the record comes from.
	Type PkgManager `json:"type"`
	// Name is the binary package name.
	Name string `json:"name"`
	// Version is the upstream version (dpkg, rpm) or the full version (apk).
	Version string `json:"version"`
	// Release is the Debian revision or the RPM release.
	Release string `json:"release,omitempty"`
	// Epoch is the version epoch, 0 when none.
	Epoch int `json:"epoch,omitempty"`
	// Arch is the architecture ("amd64", "x86_64", "noarch"; "None" for rpm
	// records without one, as Trivy writes).
	Arch string `json:"arch,omitempty"`
	// SrcName is the source package (dpkg Source, apk origin, rpm SOURCERPM);
	// the binary name when the record names none.
	SrcName string `json:"srcName"`
	// SrcVersion is the source package's upstream version (apk: full version).
	SrcVersion string `json:"srcVersion"`
	// SrcRelease is the source package's revision or release.
	SrcRelease string `json:"srcRelease,omitempty"`
	// SrcEpoch is the source package's epoch (rpm: the binary's, as Trivy).
	SrcEpoch int `json:"srcEpoch,omitempty"`
	// Modularitylabel is the RHEL module label of an rpm, if any.
	Modularitylabel string `json:"modularitylabel,omitempty"`
	// BuildInfo is the Red Hat build information that applies to an rpm
	// package of a Red Hat or CentOS image (see BuildInfo); nil when the
	// image has none.
	BuildInfo *BuildInfo `json:"buildInfo,omitempty"`
	// Vendor is the rpm VENDOR tag ("Rocky Enterprise Software
	// Foundation"); empty for other formats.
	Vendor string `json:"vendor,omitempty"`
	// File is the database file the record was read from.
	File string `json:"file"`
	// Layer is the layer that supplied that file.
	Layer imagefs.Layer `json:"layer"`
}

// FullVersion returns the installed version as Trivy prints it:
// "[epoch:]version[-release]" ("1:2.3-4", "1.2.3-r0", "1:2.3-4.el9").
func (p Package) FullVersion() string { return formatVersion(p.Epoch, p.Version, p.Release) }

// SrcFullVersion returns the source version the same way.
func (p Package) SrcFullVersion() string {
	return formatVersion(p.SrcEpoch, p.SrcVersion, p.SrcRelease)
}

// String returns "name full-version (arch)".
func (p Package) String() string {
	return fmt.Sprintf("%s %s (%s)", p.Name, p.FullVersion(), p.Arch)
}

func formatVersion(epoch int, version, release string) string {
	v := version
	if release != "" {
		v += "-" + release
	}
	if epoch != 0 {
		v = strconv.Itoa(epoch) + ":" + v
	}
	return v
}

// osVendors are the VENDOR prefixes of rpm packages built by a
// distribution itself; Trivy uses the same list to tell them from packages
// of third-party repositories (EPEL, Docker…).
var osVendors = []string{
	"Amazon Linux", "Amazon.com", "CentOS", "Fedora Project", "Oracle America",
	"Red Hat", "AlmaLinux", "CloudLinux", "VMware", "SUSE", "openSUSE",
	"Microsoft Corporation", "Rocky",
}

// ThirdParty reports whether an rpm package comes from outside its
// distribution (a VENDOR the distribution does not use). The distribution's
// advisories do not describe such packages, so scans leave them out, as
// Trivy does. Amazon Linux packages may lack VENDOR: their release carries
// "amzn". dpkg and apk packages are never third-party here.
func (p Package) ThirdParty() bool {
	if p.Type != RPM {
		return false
	}
	if p.Vendor == "" {
		return !strings.Contains(p.Release, "amzn")
	}
	for _, v := range osVendors {
		if strings.HasPrefix(p.Vendor, v) {
			return false
		}
	}
	return true
}
