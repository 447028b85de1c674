package vulndb

import (
	"strings"
	"time"
)

// A releaseFunc reduces an OS version, as detected in an image, to the
// release a distribution's advisories and end-of-life dates are keyed by.
// It reports false when the version says nothing usable.
type releaseFunc func(version string, now time.Time) (string, bool)

// majorRelease keeps the part before the first dot: "12.5" → "12".
func majorRelease(v string, _ time.Time) (string, bool) {
	major, _, _ := strings.Cut(v, ".")
	return major, major != ""
}

// minorRelease keeps the first two dot-separated parts: "3.19.1" → "3.19".
func minorRelease(v string, _ time.Time) (string, bool) {
	major, rest, ok := strings.Cut(v, ".")
	if !ok {
		return v, v != ""
	}
	minor, _, _ := strings.Cut(rest, ".")
	return major + "." + minor, true
}

// fullRelease keeps the version as it is: "15.5" → "15.5".
func fullRelease(v string, _ time.Time) (string, bool) {
	return v, v != ""
}

// amazonRelease maps Amazon Linux versions to "1", "2", "2022" or "2023".
// The version may carry a code name ("2 (Karoo)") or a build date
// ("2023.3.20240304"); anything but 2, 2022 and 2023 is Amazon Linux 1.
func amazonRelease(v string, now time.Time) (string, bool) {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return "", false
	}
	major, _ := majorRelease(fields[0], now)
	switch major {
	case "2", "2022", "2023":
		return major, true
	}
	return "1", true
}

// ubuntuRelease resolves Ubuntu's Expanded Security Maintenance versions:
// "18.04-ESM" stays as it is when Trivy knows it, and otherwise falls back
// to "18.04" while that release is still in standard support.
func ubuntuRelease(v string, now time.Time) (string, bool) {
	if v == "" {
		return "", false
	}
	if _, ok := eolUbuntu[v]; ok {
		return v, true
	}
	base := strings.TrimSuffix(v, "-ESM")
	if eol, ok := eolUbuntu[base]; ok && now.Before(eol) {
		return base, true
	}
	return v, true
}

// unversioned is for rolling distributions whose advisories apply to every
// version.
func unversioned(string, time.Time) (string, bool) { return "", true }
