package vulndb

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Advisory is one vendor statement that a vulnerability affects a package
// on a platform, and from which version it is fixed.
type Advisory struct {
	// VulnerabilityID is the key of the advisory, e.g. "CVE-2024-1234".
	VulnerabilityID string
	// VendorIDs are the vendor's own advisory IDs, e.g. "DSA-5000-1".
	VendorIDs []string
	// Arches limits the advisory to these architectures; empty means all.
	Arches []string
	// Status is the vendor's state when there is no fixed version.
	Status FixStatus
	// Severity is a package-specific vendor severity, when the vendor gives
	// one (Debian does); SeverityUnknown otherwise.
	Severity Severity
	// FixedVersion is the first fixed version; empty when unfixed.
	FixedVersion string
	// AffectedVersion is the version that introduced the issue, when known.
	AffectedVersion string
	// DataSource is where the platform's advisories come from.
	DataSource DataSource
	// Custom is vendor-specific extra data, kept verbatim.
	Custom json.RawMessage
}

// AppliesTo reports whether the advisory concerns a package built for arch.
// Advisories without architectures apply to every architecture; Trivy
// records architectures only for Rocky Linux and Oracle Linux.
func (a Advisory) AppliesTo(arch string) bool {
	return len(a.Arches) == 0 || slices.Contains(a.Arches, arch)
}

// storedAdvisory is an advisory value as trivy-db writes it. Most platforms
// store one advisory per key; Rocky and Oracle Linux store a list of
// per-architecture Entries, with a top-level FixedVersion kept only for old
// clients.
type storedAdvisory struct {
	VendorIDs       []string
	Arches          []string
	Status          int
	Severity        int
	FixedVersion    string
	AffectedVersion string
	Custom          json.RawMessage
	Entries         []storedAdvisory
}

func (s storedAdvisory) advisory(id string, src DataSource) Advisory {
	return Advisory{
		VulnerabilityID: id,
		VendorIDs:       s.VendorIDs,
		Arches:          s.Arches,
		Status:          fixStatusFromCode(s.Status),
		Severity:        severityFromCode(s.Severity),
		FixedVersion:    s.FixedVersion,
		AffectedVersion: s.AffectedVersion,
		DataSource:      src,
		Custom:          s.Custom,
	}
}

// decodeAdvisories parses the value stored under vulnerability id. It
// returns one advisory, or one per entry for the per-architecture form.
func decodeAdvisories(id string, value []byte, src DataSource) ([]Advisory, error) {
	var s storedAdvisory
	if err := json.Unmarshal(value, &s); err != nil {
		return nil, fmt.Errorf("decode advisory %s: %w", id, err)
	}
	if len(s.Entries) == 0 {
		return []Advisory{s.advisory(id, src)}, nil
	}
	out := make([]Advisory, 0, len(s.Entries))
	for _, e := range s.Entries {
		out = append(out, e.advisory(id, src))
	}
	return out, nil
}
