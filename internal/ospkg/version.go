package ospkg

import (
	"fmt"

	apkver "github.com/knqyf263/go-apk-version"
	debver "github.com/knqyf263/go-deb-version"
	rpmver "github.com/knqyf263/go-rpm-version"
)

// Compare orders two full versions ("[epoch:]version[-release]", as
// Package.FullVersion prints them) of this package format: negative when a
// is older than b, zero when equal, positive when newer. A version the
// format cannot parse is an error.
func (m PkgManager) Compare(a, b string) (int, error) {
	switch m {
	case Dpkg:
		va, err := debver.NewVersion(a)
		if err != nil {
			return 0, fmt.Errorf("dpkg version %q: %w", a, err)
		}
		vb, err := debver.NewVersion(b)
		if err != nil {
			return 0, fmt.Errorf("dpkg version %q: %w", b, err)
		}
		return va.Compare(vb), nil
	case Apk:
		va, err := apkver.NewVersion(a)
		if err != nil {
			return 0, fmt.Errorf("apk version %q: %w", a, err)
		}
		vb, err := apkver.NewVersion(b)
		if err != nil {
			return 0, fmt.Errorf("apk version %q: %w", b, err)
		}
		return va.Compare(vb), nil
	case RPM:
		if a == "" || b == "" {
			return 0, fmt.Errorf("rpm version: empty version")
		}
		return rpmver.NewVersion(a).Compare(rpmver.NewVersion(b)), nil
	}
	return 0, fmt.Errorf("compare versions: unknown package format %q", m)
}
