package scan

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/patchloop/patchloop/internal/vulndb"
)

// TableOptions configure WriteTable.
type TableOptions struct {
	// Status adds a STATUS column (useful with unfixed findings).
	Status bool
	// Severities are the severities counted in the summary line, as
	// Trivy's; empty means all five.
	Severities []vulndb.Severity
}

// WriteTable prints reports as text: for each, its target underlined, a
// summary line as Trivy prints it ("Total: 3 (UNKNOWN: 0, LOW: 1, MEDIUM:
// 0, HIGH: 1, CRITICAL: 1)") and a table of findings with the columns
// PACKAGE, INSTALLED, FIXED, VULNERABILITY, SEVERITY (and STATUS); a line
// "Ignored: N (by FILE)" follows the summary when an ignore file set
// findings aside. When
// there are several reports the platform is named in each heading. An
// unsupported image gets a line saying why it was not scanned.
func WriteTable(w io.Writer, reports []*Report, opts TableOptions) error {
	bw := bufio.NewWriter(w)
	for _, r := range reports {
		writeReportTable(bw, r, len(reports) > 1, opts)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func writeReportTable(w *bufio.Writer, r *Report, multi bool, opts TableOptions) {
	suffix := ""
	if multi && r.Platform != "" {
		suffix = " [" + r.Platform + "]"
	}
	if !r.Supported() {
		heading(w, r.ArtifactName+suffix)
		fmt.Fprintf(w, "Not scanned: %s\n", r.Unsupported)
		return
	}
	for _, res := range r.Results {
		heading(w, res.Target+suffix)
		fmt.Fprintln(w, summaryLine(res.Vulnerabilities, opts.Severities))
		if line := ignoredLine(res.ModifiedFindings); line != "" {
			fmt.Fprintln(w, line)
		}
		if len(res.Vulnerabilities) == 0 {
			continue
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		cols := []string{"PACKAGE", "INSTALLED", "FIXED", "VULNERABILITY", "SEVERITY"}
		if opts.Status {
			cols = append(cols, "STATUS")
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		for _, v := range res.Vulnerabilities {
			row := []string{v.PkgName, v.InstalledVersion, v.FixedVersion, v.VulnerabilityID, v.Severity}
			if opts.Status {
				row = append(row, v.Status)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		_ = tw.Flush() // errors surface in the final bufio flush
	}
}

// ignoredLine counts the findings an ignore file set aside ("Ignored: 2
// (by .trivyignore)"); empty when there are none.
func ignoredLine(ms []ModifiedFinding) string {
	n, sources := 0, []string{}
	for _, m := range ms {
		if m.Status != FindingStatusIgnored {
			continue
		}
		n++
		if !slices.Contains(sources, m.Source) {
			sources = append(sources, m.Source)
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("Ignored: %d (by %s)", n, strings.Join(sources, ", "))
}

// heading prints a title underlined with '=', after a blank line.
func heading(w io.Writer, title string) {
	fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("=", len(title)))
}

// summaryLine counts findings by severity, lowest severity first, as
// Trivy's table does.
func summaryLine(vs []DetectedVulnerability, severities []vulndb.Severity) string {
	counts := severityCounts(vs)
	total := 0
	var parts []string
	for s := vulndb.SeverityUnknown; s <= vulndb.SeverityCritical; s++ {
		if len(severities) > 0 && !containsSeverity(severities, s) {
			continue
		}
		n := counts[s.String()]
		total += n
		parts = append(parts, fmt.Sprintf("%s: %d", s, n))
	}
	return fmt.Sprintf("Total: %d (%s)", total, strings.Join(parts, ", "))
}

func containsSeverity(list []vulndb.Severity, s vulndb.Severity) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
