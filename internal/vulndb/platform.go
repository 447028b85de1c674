package vulndb

import (
	"strings"
	"time"
)

// family describes how Trivy handles one OS family.
type family struct {
	release releaseFunc
	// bucket is the platform bucket name for a release; nil when Trivy does
	// not look advisories up by platform bucket for the family.
	bucket func(release string) string
	// eol holds end-of-life dates by release; nil when the family never
	// reaches end of life in Trivy's eyes.
	eol map[string]time.Time
}

// prefixed names buckets "<prefix> <release>".
func prefixed(prefix string) func(string) string {
	return func(release string) string { return prefix + " " + release }
}

// fixed names a single bucket whatever the release.
func fixed(name string) func(string) string {
	return func(string) string { return name }
}

// families is keyed by Trivy's OS family names, as its analyzers detect
// them from /etc/os-release and friends.
var families = map[string]family{
	"alma":                {release: majorRelease, bucket: prefixed("alma"), eol: eolAlma},
	"alpine":              {release: minorRelease, bucket: prefixed("alpine"), eol: eolAlpine},
	"amazon":              {release: amazonRelease, bucket: prefixed("amazon linux"), eol: eolAmazon},
	"azurelinux":          {release: minorRelease, bucket: prefixed("Azure Linux")},
	"bottlerocket":        {release: unversioned, bucket: fixed("bottlerocket")},
	"cbl-mariner":         {release: minorRelease, bucket: prefixed("CBL-Mariner")},
	"centos":              {release: majorRelease, eol: eolCentOS},
	"chainguard":          {release: unversioned, bucket: fixed("chainguard")},
	"debian":              {release: majorRelease, bucket: prefixed("debian"), eol: eolDebian},
	"echo":                {release: unversioned, bucket: fixed("echo")},
	"minimos":             {release: unversioned, bucket: fixed("minimos")},
	"opensuse-leap":       {release: fullRelease, bucket: prefixed("openSUSE Leap"), eol: eolOpenSUSELeap},
	"opensuse-tumbleweed": {release: unversioned, bucket: fixed("openSUSE Tumbleweed")},
	"oracle":              {release: majorRelease, bucket: prefixed("Oracle Linux"), eol: eolOracle},
	"photon":              {release: fullRelease, bucket: prefixed("Photon OS"), eol: eolPhoton},
	"redhat":              {release: majorRelease, eol: eolRedHat},
	"rocky":               {release: majorRelease, bucket: prefixed("rocky"), eol: eolRocky},
	"sles":                {release: fullRelease, bucket: prefixed("SUSE Linux Enterprise"), eol: eolSLES},
	"slem":                {release: fullRelease, bucket: prefixed("SUSE Linux Enterprise Micro"), eol: eolSLEMicro},
	"ubuntu":              {release: ubuntuRelease, bucket: prefixed("ubuntu"), eol: eolUbuntu},
	"wolfi":               {release: unversioned, bucket: fixed("wolfi")},
}

// Platform returns the name of the platform bucket holding the advisories
// for an OS family (Trivy's names: "debian", "ubuntu", "alpine", "rocky",
// "alma", "amazon", "oracle", "cbl-mariner", "azurelinux", "photon",
// "sles", "slem", "opensuse-leap", "opensuse-tumbleweed", "wolfi",
// "chainguard", "echo", "minimos", "bottlerocket") and version, e.g.
// ("debian", "12.5") → "debian 12". It reports false for families Trivy
// does not match by platform (Red Hat, CentOS, CoreOS, unknown ones) and
// for a missing version. It is PlatformAt at the current time.
func Platform(family, osVersion string) (string, bool) {
	return PlatformAt(family, osVersion, time.Now())
}

// PlatformAt is Platform at the time now, which matters only for Ubuntu
// ESM versions: an "X-ESM" version Trivy does not list is looked up as "X"
// while X is in standard support. For Alpine, pass the release of the
// image's package repositories when known: Trivy prefers it to the OS
// version.
func PlatformAt(family, osVersion string, now time.Time) (string, bool) {
	f, ok := families[family]
	if !ok || f.bucket == nil {
		return "", false
	}
	release, ok := f.release(strings.TrimSpace(osVersion), now)
	if !ok {
		return "", false
	}
	return f.bucket(release), true
}
