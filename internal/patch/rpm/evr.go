package rpm

import (
	"strconv"
	"strings"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// EVR is an rpm version: epoch, version and release. Epoch is "" when
// the package names none (rpm orders it as 0).
type EVR struct {
	Epoch, Version, Release string
}

// ParseEVR reads "[epoch:]version[-release]".
func ParseEVR(s string) EVR {
	var e EVR
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if _, err := strconv.Atoi(s[:i]); err == nil {
			e.Epoch, s = s[:i], s[i+1:]
		}
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		e.Version, e.Release = s[:i], s[i+1:]
	} else {
		e.Version = s
	}
	return e
}

// String prints the EVR as rpm does, with the epoch only when set.
func (e EVR) String() string {
	s := e.Version
	if e.Epoch != "" {
		s = e.Epoch + ":" + s
	}
	if e.Release != "" {
		s += "-" + e.Release
	}
	return s
}

// full prints the EVR with an explicit epoch, as the scanner's ordering
// reads it.
func (e EVR) full(withRelease bool) string {
	ep := e.Epoch
	if ep == "" {
		ep = "0"
	}
	s := ep + ":" + e.Version
	if withRelease && e.Release != "" {
		s += "-" + e.Release
	}
	return s
}

// Compare orders two EVRs with rpm's rules (the scanner's ordering,
// ospkg.RPM): epoch, then version, then release, with "~" sorting before
// and "^" after the end of a version.
func (e EVR) Compare(o EVR) int {
	return compareVersions(e.full(true), o.full(true))
}

// compareForDep compares as rpm does when matching a dependency: a
// release missing on either side is not compared.
func (e EVR) compareForDep(o EVR) int {
	rel := e.Release != "" && o.Release != ""
	return compareVersions(e.full(rel), o.full(rel))
}

// compareVersions orders two "epoch:version-release" strings; rpm's
// ordering parses everything, so the error of ospkg.RPM only concerns
// empty strings, which sort lowest.
func compareVersions(a, b string) int {
	c, err := ospkg.RPM.Compare(a, b)
	if err != nil {
		switch {
		case a == "" && b == "":
			return 0
		case a == "":
			return -1
		default:
			return 1
		}
	}
	return c
}

// CompareVersion orders two full versions as written in findings
// ("1:3.0.7-27.el9", "3.0.7-27.el9").
func CompareVersion(a, b string) int { return ParseEVR(a).Compare(ParseEVR(b)) }
