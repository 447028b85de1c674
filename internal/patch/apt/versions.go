package apt

import (
	"strings"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
)

// epochOf returns the epoch of a Debian version ("1" of "1:2.3-4"), or ""
// when it has none.
func epochOf(v string) string {
	e, _, ok := strings.Cut(v, ":")
	if !ok || e == "" || strings.Trim(e, "0123456789") != "" {
		return ""
	}
	return e
}

// fixedFor returns the version a binary must reach for a fixed version
// taken from an advisory: the fixed version itself, or, when it carries
// no epoch while the installed binary version has one, the fixed version
// with that epoch.
//
// Debian and Ubuntu advisories (and so Trivy reports) give the fixed
// version of the source package. A binary's version may carry an epoch its
// source's lacks (util-linux 2.38.1-5 builds bsdutils 1:2.38.1-5), and
// reports sometimes drop epochs, as Copa notes. In dpkg order any epoch
// beats none, so comparing "1:2.36-9+deb12u4" with "2.36-9+deb12u7" as
// written would call every candidate fixed; assuming the installed epoch
// compares like for like instead.
func fixedFor(fixed, installedVersion string) string {
	if epochOf(fixed) == "" {
		if e := epochOf(installedVersion); e != "" && e != "0" {
			return e + ":" + fixed
		}
	}
	return fixed
}

// fixes reports whether a candidate fixes an advisory whose fixed version
// is fixed for a binary installed at installedVersion. Both what Trivy
// compares (the source version against the fixed version as written) and
// the binary version against fixedFor must be at least the fixed version.
func fixes(c archive.Candidate, fixed, installedVersion string) bool {
	src := c.SourceVersion
	if src == "" {
		src = c.Version
	}
	n, err := deb.CompareVersions(src, fixed)
	if err != nil || n < 0 {
		return false
	}
	n, err = deb.CompareVersions(c.Version, fixedFor(fixed, installedVersion))
	return err == nil && n >= 0
}

// newer reports whether version a is higher than b; unparsable versions are
// never newer.
func newer(a, b string) bool {
	n, err := deb.CompareVersions(a, b)
	return err == nil && n > 0
}

// satisfiesOp reports whether version v meets the relation operator op
// against want ("" always does).
func satisfiesOp(v, op, want string) bool {
	if op == "" {
		return true
	}
	n, err := deb.CompareVersions(v, want)
	if err != nil {
		return false
	}
	switch op {
	case "<<":
		return n < 0
	case "<=":
		return n <= 0
	case "=":
		return n == 0
	case ">=":
		return n >= 0
	case ">>":
		return n > 0
	}
	return false
}
