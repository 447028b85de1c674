package scan

import (
	rpmver "github.com/knqyf263/go-rpm-version"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// olderThan reports whether the installed version iv is older than v, in
// the format's ordering; an unparsable v is an error.
func olderThan(iv ospkg.Version, v string) (bool, error) {
	n, err := iv.Compare(v)
	return n < 0, err
}

// normalizeRPM prints an rpm version as go-rpm-version does, without a
// zero epoch: "0:1.2-3" becomes "1.2-3".
func normalizeRPM(v string) string { return rpmver.NewVersion(v).String() }
