package apt

import (
	"cmp"
	"fmt"
	"strings"

	version "github.com/knqyf263/go-deb-version"
)

// CompareVersions compares two Debian package versions with dpkg's
// ordering (epoch, then upstream version, then revision, with '~' sorting
// before everything). It returns -1, 0 or +1.
func CompareVersions(a, b string) (int, error) {
	va, err := version.NewVersion(a)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", a, err)
	}
	vb, err := version.NewVersion(b)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", b, err)
	}
	return cmp.Compare(va.Compare(vb), 0), nil
}

// compareLenient orders versions like CompareVersions, placing unparsable
// ones below all valid ones.
func compareLenient(a, b string) int {
	va, vb := version.Valid(a), version.Valid(b)
	switch {
	case va && vb:
		n, _ := CompareVersions(a, b)
		return n
	case va:
		return 1
	case vb:
		return -1
	}
	return strings.Compare(a, b)
}
