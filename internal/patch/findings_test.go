package patch_test

import (
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/scan"
)

func TestFindingsFromReport(t *testing.T) {
	rep := &scan.Report{Results: []scan.Result{
		{Class: scan.ClassOSPkgs, Vulnerabilities: []scan.DetectedVulnerability{
			{VulnerabilityID: "CVE-2", PkgName: "libssl3", InstalledVersion: "3.0.11-1", FixedVersion: "3.0.13-1"},
			{VulnerabilityID: "CVE-1", PkgName: "libssl3", InstalledVersion: "3.0.11-1", FixedVersion: "3.0.13-1, 3.1.5-1"},
			{VulnerabilityID: "CVE-2", PkgName: "libssl3", InstalledVersion: "3.0.11-1", FixedVersion: "3.0.13-1"},
			{VulnerabilityID: "CVE-3", PkgName: "zlib1g", InstalledVersion: "1:1.2.13"},
		}},
		{Class: "lang-pkgs", Vulnerabilities: []scan.DetectedVulnerability{
			{VulnerabilityID: "CVE-4", PkgName: "requests", InstalledVersion: "2.0", FixedVersion: "2.31"},
		}},
	}}
	got := patch.FindingsFromReport(rep)
	want := []patch.Finding{
		{VulnerabilityID: "CVE-1", PkgName: "libssl3", InstalledVersion: "3.0.11-1", FixedVersion: "3.0.13-1"},
		{VulnerabilityID: "CVE-2", PkgName: "libssl3", InstalledVersion: "3.0.11-1", FixedVersion: "3.0.13-1"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("findings = %+v, want %+v", got, want)
	}
}
