package scan

import (
	"fmt"

	apkver "github.com/knqyf263/go-apk-version"
	debver "github.com/knqyf263/go-deb-version"
	rpmver "github.com/knqyf263/go-rpm-version"
)

// installedVersion is a parsed installed version, compared with an
// advisory's versions in its distribution's ordering.
type installedVersion interface {
	// lessThan reports whether the installed version is older than v; an
	// unparsable v is an error.
	lessThan(v string) (bool, error)
}

// parseInstalled parses an installed version in the given format. rpm
// versions always parse, as in go-rpm-version.
func parseInstalled(f versionFormat, v string) (installedVersion, error) {
	switch f {
	case formatDeb:
		iv, err := debver.NewVersion(v)
		if err != nil {
			return nil, fmt.Errorf("dpkg version %q: %w", v, err)
		}
		return debInstalled{iv}, nil
	case formatApk:
		iv, err := apkver.NewVersion(v)
		if err != nil {
			return nil, fmt.Errorf("apk version %q: %w", v, err)
		}
		return apkInstalled{iv}, nil
	default:
		return rpmInstalled{rpmver.NewVersion(v)}, nil
	}
}

type debInstalled struct{ v debver.Version }

func (i debInstalled) lessThan(s string) (bool, error) {
	v, err := debver.NewVersion(s)
	if err != nil {
		return false, fmt.Errorf("dpkg version %q: %w", s, err)
	}
	return i.v.LessThan(v), nil
}

type apkInstalled struct{ v apkver.Version }

func (i apkInstalled) lessThan(s string) (bool, error) {
	v, err := apkver.NewVersion(s)
	if err != nil {
		return false, fmt.Errorf("apk version %q: %w", s, err)
	}
	return i.v.LessThan(v), nil
}

type rpmInstalled struct{ v rpmver.Version }

func (i rpmInstalled) lessThan(s string) (bool, error) {
	return i.v.LessThan(rpmver.NewVersion(s)), nil
}

// normalizeRPM prints an rpm version as go-rpm-version does, without a
// zero epoch: "0:1.2-3" becomes "1.2-3".
func normalizeRPM(v string) string { return rpmver.NewVersion(v).String() }
