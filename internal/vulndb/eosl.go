package vulndb

import (
	"strings"
	"time"
)

// EndOfLife returns the end-of-life date Trivy uses for an OS family and
// version, and false when it has none: the family never ends (rolling
// distributions, Azure Linux, CBL-Mariner, openSUSE Tumbleweed), the
// release is not on Trivy's list, or the family is unknown.
func EndOfLife(family, osVersion string, now time.Time) (time.Time, bool) {
	f, ok := families[family]
	if !ok || f.eol == nil {
		return time.Time{}, false
	}
	release, ok := f.release(strings.TrimSpace(osVersion), now)
	if !ok {
		return time.Time{}, false
	}
	eol, ok := f.eol[release]
	return eol, ok
}

// EOSL reports whether the OS has reached its end of service life at now,
// by Trivy's dates. Like Trivy, it treats a release missing from the list
// as supported, since it is most likely newer than the list.
func EOSL(family, osVersion string, now time.Time) bool {
	eol, ok := EndOfLife(family, osVersion, now)
	return ok && !now.Before(eol)
}
