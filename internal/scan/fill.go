package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// vulnSource gives the details of a vulnerability ID.
type vulnSource interface {
	Vulnerability(ctx context.Context, id string) (vulndb.Vulnerability, error)
}

// details looks vulnerabilities up once each.
type details struct {
	src  vulnSource
	seen map[string]*vulndb.Vulnerability
}

// get returns the details of id, or nil when the database has none.
func (d *details) get(ctx context.Context, id string) (*vulndb.Vulnerability, error) {
	if v, ok := d.seen[id]; ok {
		return v, nil
	}
	v, err := d.src.Vulnerability(ctx, id)
	switch {
	case errors.Is(err, vulndb.ErrNotFound):
		d.seen[id] = nil
		return nil, nil
	case err != nil:
		return nil, err
	}
	d.seen[id] = &v
	return &v, nil
}

// finding turns a match into a report line, filled as Trivy fills it.
func finding(m match, d driver, os ospkg.OS, vuln *vulndb.Vulnerability) DetectedVulnerability {
	a := vulndb.Assess(m.adv, vuln)
	if m.adv.Severity != vulndb.SeverityUnknown && a.SeveritySource == "" {
		// The data source has no ID: Trivy names the detector's source.
		a.SeveritySource = d.pkgSeveritySource
		if a.VendorSeverity != nil {
			delete(a.VendorSeverity, "")
			a.VendorSeverity[a.SeveritySource] = m.adv.Severity
		}
	}
	f := DetectedVulnerability{
		VulnerabilityID:  m.adv.VulnerabilityID,
		PkgID:            m.pkg.ID,
		PkgName:          m.pkg.Name,
		PkgIdentifier:    PkgIdentifier{PURL: packageURL(os, m.pkg)},
		InstalledVersion: m.installed,
		FixedVersion:     m.fixed,
		Status:           a.Status.String(),
		Layer:            layerOf(m.pkg.Layer),
		SeveritySource:   a.SeveritySource,
		PrimaryURL:       a.PrimaryURL,
		Severity:         a.Severity.String(),
	}
	if d.vendorIDs {
		f.VendorIDs = m.adv.VendorIDs
	}
	if d.noPkgID {
		f.PkgID = ""
	}
	if ds := m.adv.DataSource; ds.ID != "" {
		f.DataSource = &DataSource{ID: ds.ID, Name: ds.Name, URL: ds.URL, BaseID: ds.BaseID}
	}
	if vuln != nil {
		f.Title, f.Description = vuln.Title, vuln.Description
		f.CweIDs, f.References = vuln.CweIDs, vuln.References
		f.PublishedDate, f.LastModifiedDate = vuln.PublishedDate, vuln.LastModifiedDate
		f.CVSS = convertCVSS(vuln.CVSS)
	}
	if len(a.VendorSeverity) > 0 {
		f.VendorSeverity = make(map[string]int, len(a.VendorSeverity))
		for src, s := range a.VendorSeverity {
			f.VendorSeverity[src] = int(s)
		}
	}
	if d.redHat {
		redHatFinding(&f, m, vuln)
	}
	return f
}

// layerOf reports the layer a package was found in.
func layerOf(l imagefs.Layer) Layer {
	if l.Digest.Algorithm == "" && l.DiffID.Algorithm == "" {
		return Layer{}
	}
	out := Layer{}
	if l.Digest.Algorithm != "" {
		out.Digest = l.Digest.String()
	}
	if l.DiffID.Algorithm != "" {
		out.DiffID = l.DiffID.String()
	}
	return out
}

func convertCVSS(in map[string]vulndb.CVSS) map[string]CVSS {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]CVSS, len(in))
	for src, c := range in {
		out[src] = CVSS{
			V2Vector: c.V2Vector, V3Vector: c.V3Vector, V40Vector: c.V40Vector,
			V2Score: c.V2Score, V3Score: c.V3Score, V40Score: c.V40Score,
		}
	}
	return out
}

// fillFindings turns matches into findings.
func fillFindings(ctx context.Context, src vulnSource, d driver, os ospkg.OS, ms []match) ([]DetectedVulnerability, error) {
	det := &details{src: src, seen: map[string]*vulndb.Vulnerability{}}
	out := make([]DetectedVulnerability, 0, len(ms))
	for _, m := range ms {
		v, err := det.get(ctx, m.adv.VulnerabilityID)
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", m.pkg.Name, err)
		}
		out = append(out, finding(m, d, os, v))
	}
	return out, nil
}

// filterFindings keeps the findings a report shows, as Trivy's result
// filter does: the wanted severities (all when none are given), fixed
// findings only unless includeUnfixed, one finding per vulnerability,
// package and installed version (the highest fixed version wins), sorted
// by package name, package ID, installed version, severity (highest
// first) and vulnerability ID.
func filterFindings(in []DetectedVulnerability, severities []vulndb.Severity, includeUnfixed bool) []DetectedVulnerability {
	unique := map[string]int{}
	var out []DetectedVulnerability
	for _, v := range in {
		if v.Severity == "" {
			v.Severity = vulndb.SeverityUnknown.String()
		}
		if len(severities) > 0 && !slices.ContainsFunc(severities, func(s vulndb.Severity) bool { return s.String() == v.Severity }) {
			continue
		}
		if !includeUnfixed && v.Status != vulndb.FixStatusFixed.String() {
			continue
		}
		key := strings.Join([]string{v.VulnerabilityID, v.PkgID, v.PkgName, v.InstalledVersion, v.PkgPath}, "/")
		if i, ok := unique[key]; ok {
			if out[i].FixedVersion < v.FixedVersion {
				out[i] = v
			}
			continue
		}
		unique[key] = len(out)
		out = append(out, v)
	}
	slices.SortFunc(out, compareFindings)
	return out
}

// compareFindings is Trivy's report order.
func compareFindings(a, b DetectedVulnerability) int {
	return cmp.Or(
		strings.Compare(a.PkgName, b.PkgName),
		strings.Compare(a.PkgID, b.PkgID),
		strings.Compare(a.InstalledVersion, b.InstalledVersion),
		cmp.Compare(severityRank(b.Severity), severityRank(a.Severity)),
		strings.Compare(a.VulnerabilityID, b.VulnerabilityID),
		strings.Compare(a.PkgPath, b.PkgPath),
	)
}

// severityRank orders severity names; unknown names rank as UNKNOWN.
func severityRank(s string) int {
	sev, _ := vulndb.ParseSeverity(s)
	return int(sev)
}

// severityCounts counts findings by severity name.
func severityCounts(vs []DetectedVulnerability) map[string]int {
	m := map[string]int{}
	for _, v := range vs {
		m[v.Severity]++
	}
	return m
}
