package ospkg

import (
	"fmt"
	"slices"
	"strings"

	debver "github.com/knqyf263/go-deb-version"

	"github.com/patchloop/patchloop/internal/deb"
)

// dpkg database locations.
const (
	dpkgStatusFile = "var/lib/dpkg/status"
	dpkgStatusGlob = "var/lib/dpkg/status.d/*"
)

// dpkgFields are the status fields an inventory uses (lower case).
var dpkgFields = []string{"package", "version", "architecture", "source", "status"}

// installedStates are the dpkg package states whose files are all on disk.
var installedStates = []string{"installed", "triggers-awaited", "triggers-pending"}

// parseDpkgStatus reads a dpkg status file, or one file of the distroless
// status.d directory (fromDir), into packages. Records of var/lib/dpkg/status
// count only when their Status state is installed (or awaiting triggers):
// "install ok installed" and "hold ok installed" do, "deinstall ok
// config-files" does not. status.d files usually have no Status field; their
// records count unless one says otherwise.
func parseDpkgStatus(data []byte, fromDir bool) ([]Package, error) {
	var pkgs pkgList
	err := parseParagraphs(data, dpkgFields, func(p paragraph) error {
		status, hasStatus := p.fields["status"]
		if hasStatus && !dpkgInstalled(status) || !hasStatus && !fromDir {
			return nil
		}
		pkg, err := dpkgPackage(p)
		if err == nil {
			err = pkgs.add(pkg)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", p.line, err)
		}
		return nil
	})
	return pkgs.pkgs, err
}

// dpkgInstalled reports whether a Status value ("want flag state") says the
// package's files are installed.
func dpkgInstalled(status string) bool {
	f := strings.Fields(status)
	return len(f) == 3 && slices.Contains(installedStates, f[2])
}

// dpkgPackage builds a Package from one status record.
func dpkgPackage(p paragraph) (Package, error) {
	name, raw := p.fields["package"], p.fields["version"]
	if name == "" {
		return Package{}, fmt.Errorf("record has no Package field")
	}
	if raw == "" {
		return Package{}, fmt.Errorf("package %s has no Version field", name)
	}
	v, err := debver.NewVersion(raw)
	if err != nil {
		return Package{}, fmt.Errorf("package %s: version %q: %w", name, raw, err)
	}
	pkg := Package{
		ID:      name + "@" + raw,
		Type:    Dpkg,
		Name:    name,
		Version: v.Version(),
		Release: v.Revision(),
		Epoch:   v.Epoch(),
		Arch:    p.fields["architecture"],
	}
	srcName, srcRaw := parseDpkgSource(p.fields["source"])
	if srcName == "" {
		srcName = name
	}
	if srcRaw == "" {
		srcRaw = raw
	}
	sv, err := debver.NewVersion(srcRaw)
	if err != nil {
		return Package{}, fmt.Errorf("package %s: source version %q: %w", name, srcRaw, err)
	}
	pkg.SrcName, pkg.SrcVersion, pkg.SrcRelease, pkg.SrcEpoch = srcName, sv.Version(), sv.Revision(), sv.Epoch()
	return pkg, nil
}

// parseDpkgSource splits a Source field, "name" or "name (version)".
func parseDpkgSource(s string) (name, version string) { return deb.ParseSource(s) }
