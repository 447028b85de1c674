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

func TestReportForPlatform(t *testing.T) {
	report := func(os, arch, variant string) *scan.Report {
		r := &scan.Report{ArtifactName: os + "/" + arch + "/" + variant}
		r.Metadata.ImageConfig.OS, r.Metadata.ImageConfig.Architecture, r.Metadata.ImageConfig.Variant = os, arch, variant
		return r
	}
	reports := []*scan.Report{report("linux", "amd64", ""), report("linux", "arm", "v6"), report("linux", "arm", "v7"), report("linux", "arm64", "")}
	for plat, want := range map[string]string{
		"linux/amd64":    "linux/amd64/",
		"linux/arm/v7":   "linux/arm/v7",
		"linux/arm64/v8": "linux/arm64/", // the config names no variant
		"linux/s390x":    "",
		"not a platform": "",
	} {
		got := ""
		if r := patch.ReportForPlatform(reports, plat); r != nil {
			got = r.ArtifactName
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", plat, got, want)
		}
	}
}
