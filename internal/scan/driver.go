package scan

import (
	"strings"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// driver is what Trivy's detector for one OS family does, reduced to the
// choices that differ between families.
type driver struct {
	// key returns the package name the family's advisories are keyed by;
	// false skips the package.
	key func(ospkg.Package) (string, bool)
	// compared returns the installed version compared with fixed versions.
	compared func(ospkg.Package) string
	// installed returns the version the report shows as installed.
	installed func(ospkg.Package) string
	// format is the version ordering (ospkg's, one per package format).
	format ospkg.PkgManager
	// unfixed reports advisories without a fixed version as findings.
	unfixed bool
	// affected honours the advisory's AffectedVersion (Alpine).
	affected bool
	// status keeps the advisory's vendor status (Debian, Echo); other
	// detectors drop it, so unfixed findings read "affected".
	status bool
	// pkgSeverity keeps the advisory's package-specific severity, whose
	// source is pkgSeveritySource when the data source has no ID.
	pkgSeverity       bool
	pkgSeveritySource string
	// vendorIDs copies the advisory's vendor IDs into the finding (Debian).
	vendorIDs bool
	// archFilter keeps only advisories for the package's architecture.
	archFilter bool
	// oracleFlavor keeps only advisories of the package's flavor (normal,
	// fips, ksplice).
	oracleFlavor bool
	// normalizeFixed reports the fixed version as go-rpm-version prints it
	// (a zero epoch dropped).
	normalizeFixed bool
	// noPkgID leaves PkgID out, as Trivy's Azure Linux detector does.
	noPkgID bool
	// skipEmptyInstalled skips packages whose installed version is empty.
	skipEmptyInstalled bool
	// strict makes unparsable versions an error instead of a skip (Echo).
	strict bool
	// redHat matches by CPE, as Trivy's Red Hat detector does (see
	// matchRedHat); the platform is then the major release.
	redHat bool
}

// Version and key accessors shared by the drivers.
func binaryName(p ospkg.Package) (string, bool) { return p.Name, true }
func sourceName(p ospkg.Package) (string, bool) { return p.SrcName, true }
func fullVersion(p ospkg.Package) string        { return p.FullVersion() }
func srcFullVersion(p ospkg.Package) string     { return p.SrcFullVersion() }

// originOrName is the apk origin, else the package name.
func originOrName(p ospkg.Package) (string, bool) {
	if p.SrcName != "" {
		return p.SrcName, true
	}
	return p.Name, true
}

// modularName prefixes the module name and stream of a modular rpm
// ("nodejs:12::npm" for npm from nodejs:12:8030020201124152102:229f0a1c),
// as Alma and Rocky key their module advisories.
func modularName(p ospkg.Package) (string, bool) {
	label := p.Modularitylabel
	colons := 0
	for i := 0; i < len(label); i++ {
		if label[i] == ':' {
			colons++
			if colons == 2 {
				return label[:i] + "::" + p.Name, true
			}
		}
	}
	return p.Name, true
}

// almaName is modularName, skipping modular packages that lost their
// module label (AlmaLinux bug 173), as Trivy does.
func almaName(p ospkg.Package) (string, bool) {
	if strings.Contains(p.Release, ".module_el") && p.Modularitylabel == "" {
		return "", false
	}
	return modularName(p)
}

// debianLike is the Debian detector; Ubuntu and Echo differ from it.
var debianLike = driver{
	key: sourceName, compared: srcFullVersion, installed: fullVersion,
	format: ospkg.Dpkg, unfixed: true,
}

// rpmLike compares the binary package's full version in rpm order and
// reports only fixed advisories.
var rpmLike = driver{
	key: binaryName, compared: fullVersion, installed: fullVersion, format: ospkg.RPM,
}

// apkLike is the Wolfi, Chainguard and MinimOS detector.
var apkLike = driver{
	key: originOrName, compared: fullVersion, installed: fullVersion, format: ospkg.Apk,
}

// drivers maps the OS families Patchloop can match to their detector.
// CentOS Stream, Fedora and CoreOS are missing: the database has no
// advisories for them. Red Hat and CentOS are matched by CPE.
var drivers = map[ospkg.Family]driver{
	ospkg.RedHat: redHatDriver,
	ospkg.CentOS: redHatDriver,
	ospkg.Debian: with(debianLike, func(d *driver) {
		d.status, d.pkgSeverity, d.pkgSeveritySource, d.vendorIDs = true, true, "debian", true
	}),
	ospkg.Ubuntu: debianLike,
	ospkg.Echo: with(debianLike, func(d *driver) {
		d.installed, d.status, d.pkgSeverity, d.pkgSeveritySource, d.strict = srcFullVersion, true, true, "echo", true
	}),
	ospkg.Alpine: with(apkLike, func(d *driver) {
		d.compared, d.unfixed, d.affected = srcFullVersion, true, true
	}),
	ospkg.Wolfi:      apkLike,
	ospkg.Chainguard: apkLike,
	ospkg.MinimOS:    apkLike,
	ospkg.Alma:       with(rpmLike, func(d *driver) { d.key, d.normalizeFixed = almaName, true }),
	ospkg.Rocky: with(rpmLike, func(d *driver) {
		d.key, d.normalizeFixed, d.archFilter = modularName, true, true
	}),
	ospkg.Oracle:             with(rpmLike, func(d *driver) { d.archFilter, d.oracleFlavor = true, true }),
	ospkg.Amazon:             with(rpmLike, func(d *driver) { d.format, d.skipEmptyInstalled = ospkg.Dpkg, true }),
	ospkg.Azure:              azureDriver,
	ospkg.CBLMariner:         azureDriver,
	ospkg.Photon:             with(rpmLike, func(d *driver) { d.key = sourceName }),
	ospkg.SLES:               rpmLike,
	ospkg.SLEMicro:           rpmLike,
	ospkg.OpenSUSELeap:       rpmLike,
	ospkg.OpenSUSETumbleweed: rpmLike,
	ospkg.Bottlerocket:       with(rpmLike, func(d *driver) { d.skipEmptyInstalled = true }),
}

// azureDriver is the Azure Linux and CBL-Mariner detector: source package
// and version, unfixed advisories reported, no PkgID.
var azureDriver = with(rpmLike, func(d *driver) {
	d.key, d.compared, d.unfixed, d.normalizeFixed, d.noPkgID = sourceName, srcFullVersion, true, true, true
})

// with returns a copy of d changed by f.
func with(d driver, f func(*driver)) driver {
	f(&d)
	return d
}

// oracleFlavor tells Oracle Linux's package flavors apart by version: a
// "_fips" suffix, a "ksplice…" release component, or neither.
func oracleFlavor(version string) string {
	v := strings.ToLower(version)
	if strings.HasSuffix(v, "_fips") {
		return "fips"
	}
	for _, part := range strings.Split(v, ".") {
		if strings.HasPrefix(part, "ksplice") {
			return "ksplice"
		}
	}
	return "normal"
}
