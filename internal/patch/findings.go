package patch

import (
	"cmp"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/scan"
)

// FindingsFromReport returns the fixable OS-package findings of a Trivy
// JSON report: those with a fixed version, once per vulnerability and
// package, sorted. Results of other classes (language packages) are left
// out.
// When a fixed version lists several versions ("1.2.3, 1.3.1"), the first
// is kept.
func FindingsFromReport(rep *scan.Report) []Finding {
	seen := map[[2]string]bool{}
	var out []Finding
	var vulns []scan.DetectedVulnerability
	for _, res := range rep.Results {
		if res.Class == "" || res.Class == scan.ClassOSPkgs {
			vulns = append(vulns, res.Vulnerabilities...)
		}
	}
	for _, v := range vulns {
		fixed, _, _ := strings.Cut(v.FixedVersion, ",")
		fixed = strings.TrimSpace(fixed)
		if fixed == "" || v.PkgName == "" {
			continue
		}
		key := [2]string{v.VulnerabilityID, v.PkgName}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, Finding{VulnerabilityID: v.VulnerabilityID, PkgName: v.PkgName, InstalledVersion: v.InstalledVersion, FixedVersion: fixed})
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.PkgName, b.PkgName), strings.Compare(a.VulnerabilityID, b.VulnerabilityID))
	})
	return out
}

// ReportForPlatform returns the report whose image config names plat
// ("os/arch[/variant]"): same OS and architecture, and the same variant
// when both name one. It returns nil when none does.
func ReportForPlatform(reports []*scan.Report, plat string) *scan.Report {
	want, err := v1.ParsePlatform(plat)
	if err != nil {
		return nil
	}
	for _, r := range reports {
		cfg := r.Metadata.ImageConfig
		if cfg.OS != want.OS || cfg.Architecture != want.Architecture {
			continue
		}
		if cfg.Variant != "" && want.Variant != "" && cfg.Variant != want.Variant {
			continue
		}
		return r
	}
	return nil
}
