package ospkg

import (
	"cmp"
	"fmt"

	apkver "github.com/knqyf263/go-apk-version"
	rpmver "github.com/knqyf263/go-rpm-version"

	"github.com/patchloop/patchloop/internal/deb"
)

// Version is a version parsed once in its package format's ordering, to be
// compared with many others (an installed version against every advisory
// of its package). This is the one version ordering per format: dpkg's
// through package deb, apk's and rpm's here.
type Version struct {
	m   PkgManager
	deb deb.Version
	apk apkver.Version
	rpm rpmver.Version
}

// ParseVersion parses a full version ("[epoch:]version[-release]", as
// Package.FullVersion prints them) of this package format. rpm versions
// always parse, as go-rpm-version reads them.
func (m PkgManager) ParseVersion(s string) (Version, error) {
	v := Version{m: m}
	var err error
	switch m {
	case Dpkg:
		if v.deb, err = deb.ParseVersion(s); err != nil {
			return Version{}, fmt.Errorf("dpkg %w", err)
		}
	case Apk:
		if v.apk, err = apkver.NewVersion(s); err != nil {
			return Version{}, fmt.Errorf("apk version %q: %w", s, err)
		}
	case RPM:
		v.rpm = rpmver.NewVersion(s)
	default:
		return Version{}, fmt.Errorf("compare versions: unknown package format %q", m)
	}
	return v, nil
}

// Compare orders v against the version s of the same format: -1 when v is
// older, 0 when equal, +1 when newer. An s the format cannot parse is an
// error.
func (v Version) Compare(s string) (int, error) {
	o, err := v.m.ParseVersion(s)
	if err != nil {
		return 0, err
	}
	switch v.m {
	case Dpkg:
		return v.deb.Compare(o.deb), nil
	case Apk:
		return cmp.Compare(v.apk.Compare(o.apk), 0), nil
	default:
		return cmp.Compare(v.rpm.Compare(o.rpm), 0), nil
	}
}

// Compare orders two full versions of this package format: negative when a
// is older than b, zero when equal, positive when newer. A version the
// format cannot parse, or an empty rpm version, is an error.
func (m PkgManager) Compare(a, b string) (int, error) {
	if m == RPM && (a == "" || b == "") {
		return 0, fmt.Errorf("rpm version: empty version")
	}
	v, err := m.ParseVersion(a)
	if err != nil {
		return 0, err
	}
	return v.Compare(b)
}
