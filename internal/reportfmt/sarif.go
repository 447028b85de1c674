package reportfmt

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/patchloop/patchloop/internal/scan"
)

// SARIFSchema is the schema URI written in "$schema".
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// SARIFVersion is the SARIF version written.
const SARIFVersion = "2.1.0"

// The SARIF 2.1.0 objects Patchloop writes, with the properties GitHub
// code scanning reads.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri,omitempty"`
		Version        string      `json:"version,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string          `json:"id"`
		Name                 string          `json:"name,omitempty"`
		ShortDescription     *sarifText      `json:"shortDescription,omitempty"`
		FullDescription      *sarifText      `json:"fullDescription,omitempty"`
		DefaultConfiguration *sarifRuleConf  `json:"defaultConfiguration,omitempty"`
		HelpURI              string          `json:"helpUri,omitempty"`
		Help                 *sarifHelp      `json:"help,omitempty"`
		Properties           *sarifRuleProps `json:"properties,omitempty"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifHelp struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifRuleConf struct {
		Level string `json:"level"`
	}
	sarifRuleProps struct {
		Tags             []string `json:"tags,omitempty"`
		Precision        string   `json:"precision,omitempty"`
		SecuritySeverity string   `json:"security-severity,omitempty"`
	}
	sarifResult struct {
		RuleID       string             `json:"ruleId"`
		RuleIndex    int                `json:"ruleIndex"`
		Level        string             `json:"level"`
		Message      sarifText          `json:"message"`
		Locations    []sarifLocation    `json:"locations"`
		Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
		Message          *sarifText    `json:"message,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
		EndLine     int `json:"endLine"`
		EndColumn   int `json:"endColumn"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Justification string `json:"justification,omitempty"`
	}
)

// Tool names the program in the formats that record one.
type Tool struct {
	// Name is "patchloop"; Version its version.
	Name, Version string
}

// WriteSARIF writes the reports as one SARIF 2.1.0 log with one run: a
// rule per vulnerability ID (its title, description, link and severity,
// with GitHub's "security-severity" score), and a result per finding at
// level error (CRITICAL, HIGH), warning (MEDIUM) or note (LOW, UNKNOWN),
// located at the image (artifactLocation.uri is the image as named, with
// the platform for a multi-platform scan) and naming the package, the
// installed and the fixed version. Findings an ignore file set aside are
// written too, with an external suppression, as SARIF marks findings
// accepted elsewhere.
func WriteSARIF(w io.Writer, reports []*scan.Report, tool Tool) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           tool.Name,
			InformationURI: "https://github.com/patchloop/patchloop",
			Version:        tool.Version,
			Rules:          []sarifRule{},
		}},
		Results: []sarifResult{},
	}
	index := map[string]int{}
	add := func(r *scan.Report, v scan.DetectedVulnerability, suppression *sarifSuppression) {
		i, ok := index[v.VulnerabilityID]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			index[v.VulnerabilityID] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(v))
		}
		res := sarifResult{
			RuleID:    v.VulnerabilityID,
			RuleIndex: i,
			Level:     sarifLevel(v.Severity),
			Message:   sarifText{Text: sarifMessage(v)},
			Locations: []sarifLocation{{
				PhysicalLocation: sarifPhysical{
					ArtifactLocation: sarifArtifact{URI: artifactURI(r, len(reports) > 1)},
					Region:           sarifRegion{StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 1},
				},
				Message: &sarifText{Text: artifactURI(r, len(reports) > 1) + ": " + v.PkgName + "@" + v.InstalledVersion},
			}},
		}
		if suppression != nil {
			res.Suppressions = []sarifSuppression{*suppression}
		}
		run.Results = append(run.Results, res)
	}
	for _, r := range reports {
		for _, res := range r.Results {
			for _, v := range res.Vulnerabilities {
				add(r, v, nil)
			}
			for _, m := range res.ModifiedFindings {
				if m.Finding == nil {
					continue
				}
				add(r, *m.Finding, &sarifSuppression{Kind: "external", Justification: m.Status + " by " + m.Statement})
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("write SARIF: %w", err)
	}
	return nil
}

// sarifRuleOf describes a vulnerability as a rule.
func sarifRuleOf(v scan.DetectedVulnerability) sarifRule {
	short := v.Title
	if short == "" {
		short = v.VulnerabilityID
	}
	full := v.Description
	if full == "" {
		full = short
	}
	help := fmt.Sprintf("Vulnerability %s\nSeverity: %s\nPackage: %s\nFixed Version: %s\nLink: %s\n%s",
		v.VulnerabilityID, v.Severity, v.PkgName, v.FixedVersion, v.PrimaryURL, v.Description)
	md := fmt.Sprintf("**Vulnerability %s**\n| Severity | Package | Fixed Version | Link |\n| --- | --- | --- | --- |\n| %s | %s | %s | [%s](%s) |\n\n%s",
		v.VulnerabilityID, v.Severity, v.PkgName, v.FixedVersion, v.VulnerabilityID, v.PrimaryURL, v.Description)
	return sarifRule{
		ID:                   v.VulnerabilityID,
		Name:                 "OsPackageVulnerability",
		ShortDescription:     &sarifText{Text: short},
		FullDescription:      &sarifText{Text: full},
		DefaultConfiguration: &sarifRuleConf{Level: sarifLevel(v.Severity)},
		HelpURI:              v.PrimaryURL,
		Help:                 &sarifHelp{Text: help, Markdown: md},
		Properties: &sarifRuleProps{
			Tags:             []string{"vulnerability", "security", v.Severity},
			Precision:        "very-high",
			SecuritySeverity: securitySeverity(v.Severity),
		},
	}
}

// sarifMessage is a finding's message, one fact a line.
func sarifMessage(v scan.DetectedVulnerability) string {
	lines := []string{
		"Package: " + v.PkgName,
		"Installed Version: " + v.InstalledVersion,
		"Vulnerability " + v.VulnerabilityID,
		"Severity: " + v.Severity,
		"Fixed Version: " + v.FixedVersion,
	}
	if v.PrimaryURL != "" {
		lines = append(lines, "Link: ["+v.VulnerabilityID+"]("+v.PrimaryURL+")")
	}
	return strings.Join(lines, "\n")
}

// artifactURI is the image a finding is located at.
func artifactURI(r *scan.Report, multi bool) string {
	uri := r.ArtifactName
	if uri == "" {
		uri = r.Metadata.ImageID
	}
	if multi && r.Platform != "" {
		uri += "#" + r.Platform
	}
	return uri
}

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(severity string) string {
	switch severity {
	case "CRITICAL", "HIGH":
		return "error"
	case "MEDIUM":
		return "warning"
	}
	return "note"
}

// securitySeverity is the score GitHub sorts security alerts by: at least
// 9.0 is critical, 7.0 high, 4.0 medium, above 0 low.
func securitySeverity(severity string) string {
	switch severity {
	case "CRITICAL":
		return "9.5"
	case "HIGH":
		return "8.0"
	case "MEDIUM":
		return "5.5"
	case "LOW":
		return "2.0"
	}
	return "0.0"
}
