package vulndbtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/vulndb"
)

// The types below are Trivy's stored JSON shapes, spelled out
// independently of the reader in vulndb so that tests check one against
// the other.

// advisoryJSON is one advisory value (or one entry of the
// per-architecture form). Status and Severity are numbers.
type advisoryJSON struct {
	VendorIDs       []string        `json:",omitempty"`
	Arches          []string        `json:",omitempty"`
	Status          int             `json:",omitempty"`
	Severity        int             `json:",omitempty"`
	FixedVersion    string          `json:",omitempty"`
	AffectedVersion string          `json:",omitempty"`
	Custom          json.RawMessage `json:",omitempty"`
}

// entriesJSON is the per-architecture form Trivy uses for Rocky and
// Oracle Linux; FixedVersion is kept for old clients.
type entriesJSON struct {
	FixedVersion string         `json:",omitempty"`
	Entries      []advisoryJSON `json:",omitempty"`
}

// cvssJSON is one source's CVSS data.
type cvssJSON struct {
	V2Vector  string  `json:"V2Vector,omitempty"`
	V3Vector  string  `json:"V3Vector,omitempty"`
	V40Vector string  `json:"V40Vector,omitempty"`
	V2Score   float64 `json:"V2Score,omitempty"`
	V3Score   float64 `json:"V3Score,omitempty"`
	V40Score  float64 `json:"V40Score,omitempty"`
}

// vulnerabilityJSON is a value of the vulnerability bucket: Severity is a
// name, VendorSeverity holds numbers.
type vulnerabilityJSON struct {
	Title            string              `json:",omitempty"`
	Description      string              `json:",omitempty"`
	Severity         string              `json:",omitempty"`
	CweIDs           []string            `json:",omitempty"`
	VendorSeverity   map[string]int      `json:",omitempty"`
	CVSS             map[string]cvssJSON `json:",omitempty"`
	References       []string            `json:",omitempty"`
	PublishedDate    *time.Time          `json:",omitempty"`
	LastModifiedDate *time.Time          `json:",omitempty"`
	Custom           json.RawMessage     `json:",omitempty"`
}

// dataSourceJSON is a value of the data-source bucket.
type dataSourceJSON struct {
	ID     string `json:",omitempty"`
	Name   string `json:",omitempty"`
	URL    string `json:",omitempty"`
	BaseID string `json:",omitzero"`
}

// usesEntries reports whether Trivy stores a platform's advisories in the
// per-architecture form.
func usesEntries(platform string) bool {
	return strings.HasPrefix(platform, "rocky ") || strings.HasPrefix(platform, "Oracle Linux ")
}

func encodeAdvisory(a vulndb.Advisory) advisoryJSON {
	return advisoryJSON{
		VendorIDs:       a.VendorIDs,
		Arches:          a.Arches,
		Status:          int(a.Status),
		Severity:        int(a.Severity),
		FixedVersion:    a.FixedVersion,
		AffectedVersion: a.AffectedVersion,
		Custom:          a.Custom,
	}
}

// encodeAdvisories returns the value stored for one vulnerability of one
// package. Several advisories for the same vulnerability are only possible
// in the per-architecture form.
func encodeAdvisories(platform string, advs []vulndb.Advisory) ([]byte, error) {
	if usesEntries(platform) {
		v := entriesJSON{FixedVersion: advs[0].FixedVersion}
		for _, a := range advs {
			v.Entries = append(v.Entries, encodeAdvisory(a))
		}
		return json.Marshal(v)
	}
	if len(advs) > 1 {
		return nil, fmt.Errorf("platform %q stores one advisory per vulnerability, got %d for %s",
			platform, len(advs), advs[0].VulnerabilityID)
	}
	return json.Marshal(encodeAdvisory(advs[0]))
}

func encodeVulnerability(v vulndb.Vulnerability) ([]byte, error) {
	j := vulnerabilityJSON{
		Title:            v.Title,
		Description:      v.Description,
		Severity:         v.Severity.String(),
		CweIDs:           v.CweIDs,
		References:       v.References,
		PublishedDate:    v.PublishedDate,
		LastModifiedDate: v.LastModifiedDate,
		Custom:           v.Custom,
	}
	if len(v.VendorSeverity) > 0 {
		j.VendorSeverity = map[string]int{}
		for src, s := range v.VendorSeverity {
			j.VendorSeverity[src] = int(s)
		}
	}
	if len(v.CVSS) > 0 {
		j.CVSS = map[string]cvssJSON{}
		for src, c := range v.CVSS {
			j.CVSS[src] = cvssJSON(c)
		}
	}
	return json.Marshal(j)
}

func encodeDataSource(ds vulndb.DataSource) ([]byte, error) {
	return json.Marshal(dataSourceJSON(ds))
}

// redHatAdvisoryJSON is a value of the "Red Hat" bucket; Affected holds
// CPE indices.
type redHatAdvisoryJSON struct {
	Entries []redHatEntryJSON `json:",omitempty"`
}

type redHatEntryJSON struct {
	FixedVersion string          `json:",omitempty"`
	Cves         []redHatCVEJSON `json:"Cves"`
	Arches       []string        `json:",omitempty"`
	Status       int             `json:",omitempty"`
	Affected     []int           `json:",omitempty"`
}

type redHatCVEJSON struct {
	ID       string `json:",omitempty"`
	Severity int    `json:",omitempty"`
}

func encodeRedHatAdvisory(a RedHatAdvisory) ([]byte, error) {
	var v redHatAdvisoryJSON
	for _, e := range a.Entries {
		j := redHatEntryJSON{FixedVersion: e.FixedVersion, Arches: e.Arches, Status: int(e.Status), Affected: e.CPEs}
		for _, c := range e.CVEs {
			j.Cves = append(j.Cves, redHatCVEJSON{ID: c.ID, Severity: int(c.Severity)})
		}
		v.Entries = append(v.Entries, j)
	}
	return json.Marshal(v)
}
