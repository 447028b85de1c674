package vulndb

import (
	"cmp"
	"maps"
	"strings"
)

// Assessment is how Trivy presents a matched advisory in its report: the
// finding's status, its severity and where that came from, and its primary
// URL.
type Assessment struct {
	// Status is "fixed" when there is a fixed version, else the vendor's
	// state, else "affected".
	Status FixStatus
	// Severity is the finding's severity.
	Severity Severity
	// SeveritySource is the source ID the severity comes from; empty when
	// it is Trivy's fallback severity or unknown.
	SeveritySource string
	// PrimaryURL is the page Trivy links the finding to; may be empty.
	PrimaryURL string
	// VendorSeverity is the vulnerability's per-source severities, plus
	// the advisory's package-specific severity under its source.
	VendorSeverity map[string]Severity
}

// ghsaSource and nvdSource are the source IDs of the GitHub Advisory
// Database and of NVD, which back up a data source's own severity.
const (
	ghsaSource = "ghsa"
	nvdSource  = "nvd"
)

// Assess rates a matched advisory the way Trivy does with its default
// severity selection. vuln is the vulnerability's details, or nil when the
// database has none; Trivy then reports no primary URL.
//
// The severity is, in order: the advisory's package-specific severity;
// the data source's own severity (of its base source, when it has one);
// for GHSA IDs the GitHub severity; NVD's; the vulnerability's fallback
// severity; else UNKNOWN.
func Assess(adv Advisory, vuln *Vulnerability) Assessment {
	a := Assessment{Status: FixStatusAffected}
	switch {
	case adv.FixedVersion != "":
		a.Status = FixStatusFixed
	case adv.Status != FixStatusUnknown:
		a.Status = adv.Status
	}

	pkgSpecific := adv.Severity != SeverityUnknown
	if vuln == nil {
		if pkgSpecific {
			a.Severity, a.SeveritySource = adv.Severity, adv.DataSource.ID
		}
		return a
	}

	a.Severity, a.SeveritySource = selectSeverity(adv, vuln)
	a.VendorSeverity = maps.Clone(vuln.VendorSeverity)
	if pkgSpecific {
		a.Severity, a.SeveritySource = adv.Severity, adv.DataSource.ID
		if a.VendorSeverity == nil {
			a.VendorSeverity = map[string]Severity{}
		}
		a.VendorSeverity[a.SeveritySource] = adv.Severity
	}
	a.PrimaryURL = primaryURL(adv.VulnerabilityID, vuln.References, adv.DataSource.ID)
	return a
}

// selectSeverity applies Trivy's automatic severity selection.
func selectSeverity(adv Advisory, vuln *Vulnerability) (Severity, string) {
	own := cmp.Or(adv.DataSource.BaseID, adv.DataSource.ID)
	sources := []string{own, nvdSource}
	if strings.HasPrefix(adv.VulnerabilityID, "GHSA-") {
		sources = []string{own, ghsaSource, nvdSource}
	}
	for _, src := range sources {
		if s, ok := vuln.VendorSeverity[src]; ok {
			return s, src
		}
	}
	return vuln.Severity, ""
}

// primaryURLPrefixes are the reference URL prefixes that make a reference
// the primary URL of a finding from a data source, when the ID does not
// point to a page of its own.
var primaryURLPrefixes = map[string][]string{
	"debian":             {"http://www.debian.org", "https://www.debian.org"},
	"ubuntu":             {"http://www.ubuntu.com", "https://usn.ubuntu.com"},
	"redhat":             {"https://access.redhat.com"},
	"suse-cvrf":          {"http://lists.opensuse.org", "https://lists.opensuse.org"},
	"oracle-oval":        {"http://linux.oracle.com/errata", "https://linux.oracle.com/errata"},
	"nodejs-security-wg": {"https://www.npmjs.com", "https://hackerone.com"},
	"ruby-advisory-db":   {"https://groups.google.com"},
}

// primaryURL derives Trivy's primary URL from the vulnerability ID, else
// from the first reference the data source is known to publish under.
func primaryURL(id string, refs []string, source string) string {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "https://avd.aquasec.com/nvd/" + strings.ToLower(id)
	case strings.HasPrefix(id, "RUSTSEC-"):
		return "https://osv.dev/vulnerability/" + id
	case strings.HasPrefix(id, "GHSA-"):
		return "https://github.com/advisories/" + id
	case strings.HasPrefix(id, "TEMP-"):
		return "https://security-tracker.debian.org/tracker/" + id
	}
	for _, prefix := range primaryURLPrefixes[source] {
		for _, ref := range refs {
			if strings.HasPrefix(ref, prefix) {
				return ref
			}
		}
	}
	return ""
}
