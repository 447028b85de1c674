package scan_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchloop/patchloop/internal/scan"
)

const ignoreText = `# accepted risks
CVE-2024-0727 exp:2026-12-01   # live until December
CVE-2023-45853 exp:2026-01-01
  DSA-5600-1

CVE-2099-0001 some words we do not read
`

func TestParseIgnore(t *testing.T) {
	ig, err := scan.ParseIgnore(strings.NewReader(ignoreText), ".trivyignore")
	if err != nil {
		t.Fatal(err)
	}
	want := []scan.IgnoreRule{
		{ID: "CVE-2024-0727", Expires: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Line: 2},
		{ID: "CVE-2023-45853", Expires: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Line: 3},
		{ID: "DSA-5600-1", Line: 4},
		{ID: "CVE-2099-0001", Line: 6},
	}
	if d := cmp.Diff(want, ig.Rules); d != "" {
		t.Fatalf("rules (-want +got):\n%s", d)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if got := ig.Expired(now); len(got) != 1 || got[0].ID != "CVE-2023-45853" {
		t.Fatalf("expired = %+v", got)
	}
}

func TestParseIgnoreBadDate(t *testing.T) {
	_, err := scan.ParseIgnore(strings.NewReader("CVE-1\nCVE-2 exp:2026-13-01\n"), "ci/.trivyignore")
	if err == nil || !strings.Contains(err.Error(), "ci/.trivyignore line 2: CVE-2: exp:") {
		t.Fatalf("err = %v", err)
	}
}

func TestIgnoreApply(t *testing.T) {
	ig, err := scan.ParseIgnore(strings.NewReader(ignoreText), ".trivyignore")
	if err != nil {
		t.Fatal(err)
	}
	rep := &scan.Report{Results: []scan.Result{{Target: "t", Vulnerabilities: []scan.DetectedVulnerability{
		{VulnerabilityID: "CVE-2024-0727", PkgName: "libssl3"},
		{VulnerabilityID: "CVE-2023-45853", PkgName: "zlib1g"},
		{VulnerabilityID: "CVE-2024-9999", VendorIDs: []string{"DSA-5600-1"}, PkgName: "libc6"},
		{VulnerabilityID: "CVE-2024-1111", PkgName: "curl"},
	}}}}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if n := ig.Apply(rep, now); n != 2 {
		t.Fatalf("moved %d, want 2", n)
	}
	var kept, ignored []string
	for _, v := range rep.Vulnerabilities() {
		kept = append(kept, v.VulnerabilityID)
	}
	for _, m := range rep.Results[0].ModifiedFindings {
		if m.Type != "vulnerability" || m.Status != "ignored" || m.Source != ".trivyignore" || !strings.HasPrefix(m.Statement, ".trivyignore line ") {
			t.Errorf("modified finding %+v", m)
		}
		ignored = append(ignored, m.Finding.VulnerabilityID)
	}
	if d := cmp.Diff([]string{"CVE-2023-45853", "CVE-2024-1111"}, kept); d != "" {
		t.Errorf("kept (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"CVE-2024-0727", "CVE-2024-9999"}, ignored); d != "" {
		t.Errorf("ignored (-want +got):\n%s", d)
	}
	if rep.Ignored() != 2 {
		t.Errorf("Ignored() = %d", rep.Ignored())
	}
	// The JSON report names them as Trivy does and reads back.
	rep.SchemaVersion = scan.SchemaVersion
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"ExperimentalModifiedFindings":[{"Type":"vulnerability","Status":"ignored"`) {
		t.Fatalf("JSON lacks ExperimentalModifiedFindings: %s", b)
	}
	back, err := scan.ReadReport(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if back.Ignored() != 2 || back.Results[0].ModifiedFindings[0].Finding.PkgName != "libssl3" {
		t.Fatalf("read back %+v", back.Results[0].ModifiedFindings)
	}
}
