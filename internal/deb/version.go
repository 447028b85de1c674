package deb

import (
	"cmp"
	"fmt"
	"strings"

	debver "github.com/knqyf263/go-deb-version"
)

// Version is a parsed Debian package version, "[epoch:]upstream[-revision]",
// ordered as dpkg orders versions: epoch, then upstream version, then
// revision, with '~' sorting before everything. This is the one Debian
// ordering of the code base: the APT client, the apt patcher, the scanner
// and ospkg all compare through it.
type Version struct{ v debver.Version }

// ParseVersion parses a Debian version.
func ParseVersion(s string) (Version, error) {
	v, err := debver.NewVersion(s)
	if err != nil {
		return Version{}, fmt.Errorf("version %q: %w", s, err)
	}
	return Version{v}, nil
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than o.
func (v Version) Compare(o Version) int { return cmp.Compare(v.v.Compare(o.v), 0) }

// CompareVersions compares two Debian versions: -1, 0 or +1 as a is older
// than, equal to or newer than b. An unparsable version is an error.
func CompareVersions(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// ValidVersion reports whether s parses as a Debian version.
func ValidVersion(s string) bool { return debver.Valid(s) }

// ParseSource splits a binary package's Source field as dpkg writes it in
// status files and Packages indexes: "name" or "name (version)". version
// is "" when the field names none (the source version is then the binary
// version).
func ParseSource(field string) (name, version string) {
	name, rest, _ := strings.Cut(strings.TrimSpace(field), " ")
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		version = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	return name, version
}
