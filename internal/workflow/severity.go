package workflow

import (
	"slices"

	"github.com/patchloop/patchloop/internal/scan"
)

// countSeverities adds the report's vulnerabilities, except those whose ID
// is in skip (sorted), to counts by severity and returns counts (made when
// nil and something is counted).
func countSeverities(counts map[string]int, rep *scan.Report, skip []string) map[string]int {
	for _, v := range rep.Vulnerabilities() {
		if _, fixed := slices.BinarySearch(skip, v.VulnerabilityID); fixed {
			continue
		}
		if counts == nil {
			counts = map[string]int{}
		}
		sev := v.Severity
		if sev == "" {
			sev = "UNKNOWN"
		}
		counts[sev]++
	}
	return counts
}
