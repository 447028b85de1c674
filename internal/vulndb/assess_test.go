package vulndb_test

import (
	"reflect"
	"testing"

	"github.com/patchloop/patchloop/internal/vulndb"
)

func TestAssess(t *testing.T) {
	ubuntu := vulndb.DataSource{ID: "ubuntu"}
	derived := vulndb.DataSource{ID: "rootio", BaseID: "debian"}
	withRefs := func(v vulndb.Vulnerability, refs ...string) *vulndb.Vulnerability {
		v.References = refs
		return &v
	}
	cve1 := sample().Vulnerabilities[0] // nvd CRITICAL, debian MEDIUM, fallback HIGH
	onlyFallback := vulndb.Vulnerability{ID: "CVE-2024-0009", Severity: vulndb.SeverityMedium}
	ghsa := vulndb.Vulnerability{ID: "GHSA-abcd-efgh-ijkl", VendorSeverity: map[string]vulndb.Severity{"ghsa": vulndb.SeverityHigh, "nvd": vulndb.SeverityLow}}

	tests := []struct {
		name string
		adv  vulndb.Advisory
		vuln *vulndb.Vulnerability
		want vulndb.Assessment
	}{
		{
			name: "data source severity wins over NVD",
			adv:  vulndb.Advisory{VulnerabilityID: "CVE-2024-0001", FixedVersion: "1.2", DataSource: debianSource},
			vuln: &cve1,
			want: vulndb.Assessment{
				Status: vulndb.FixStatusFixed, Severity: vulndb.SeverityMedium, SeveritySource: "debian",
				PrimaryURL: "https://avd.aquasec.com/nvd/cve-2024-0001", VendorSeverity: cve1.VendorSeverity,
			},
		},
		{
			name: "NVD when the data source has no severity",
			adv:  vulndb.Advisory{VulnerabilityID: "CVE-2024-0001", DataSource: alpineSource},
			vuln: &cve1,
			want: vulndb.Assessment{
				Status: vulndb.FixStatusAffected, Severity: vulndb.SeverityCritical, SeveritySource: "nvd",
				PrimaryURL: "https://avd.aquasec.com/nvd/cve-2024-0001", VendorSeverity: cve1.VendorSeverity,
			},
		},
		{
			name: "fallback severity without a source",
			adv:  vulndb.Advisory{VulnerabilityID: "CVE-2024-0009", DataSource: ubuntu},
			vuln: &onlyFallback,
			want: vulndb.Assessment{
				Status: vulndb.FixStatusAffected, Severity: vulndb.SeverityMedium,
				PrimaryURL: "https://avd.aquasec.com/nvd/cve-2024-0009",
			},
		},
		{
			name: "package-specific severity and vendor status",
			adv: vulndb.Advisory{VulnerabilityID: "CVE-2024-0001", Status: vulndb.FixStatusWillNotFix,
				Severity: vulndb.SeverityLow, DataSource: debianSource},
			vuln: &cve1,
			want: vulndb.Assessment{
				Status: vulndb.FixStatusWillNotFix, Severity: vulndb.SeverityLow, SeveritySource: "debian",
				PrimaryURL:     "https://avd.aquasec.com/nvd/cve-2024-0001",
				VendorSeverity: map[string]vulndb.Severity{"nvd": vulndb.SeverityCritical, "debian": vulndb.SeverityLow},
			},
		},
		{
			name: "a fixed version overrides the vendor status",
			adv:  vulndb.Advisory{VulnerabilityID: "CVE-2024-0009", FixedVersion: "2.0", Status: vulndb.FixStatusEndOfLife},
			vuln: &onlyFallback,
			want: vulndb.Assessment{
				Status: vulndb.FixStatusFixed, Severity: vulndb.SeverityMedium,
				PrimaryURL: "https://avd.aquasec.com/nvd/cve-2024-0009",
			},
		},
		{
			name: "base source severity for a derived data source",
			adv:  vulndb.Advisory{VulnerabilityID: "CVE-2024-0001", DataSource: derived},
			vuln: &cve1,
			want: vulndb.Assessment{
				Status: vulndb.FixStatusAffected, Severity: vulndb.SeverityMedium, SeveritySource: "debian",
				PrimaryURL: "https://avd.aquasec.com/nvd/cve-2024-0001", VendorSeverity: cve1.VendorSeverity,
			},
		},
		{
			name: "GHSA IDs use GitHub's severity before NVD's",
			adv:  vulndb.Advisory{VulnerabilityID: "GHSA-abcd-efgh-ijkl", DataSource: alpineSource},
			vuln: &ghsa,
			want: vulndb.Assessment{
				Status: vulndb.FixStatusAffected, Severity: vulndb.SeverityHigh, SeveritySource: "ghsa",
				PrimaryURL: "https://github.com/advisories/GHSA-abcd-efgh-ijkl", VendorSeverity: ghsa.VendorSeverity,
			},
		},
		{
			name: "Debian temporary IDs link to the security tracker",
			adv:  vulndb.Advisory{VulnerabilityID: "TEMP-0841856-B18BAF", DataSource: debianSource},
			vuln: &vulndb.Vulnerability{},
			want: vulndb.Assessment{
				Status:     vulndb.FixStatusAffected,
				PrimaryURL: "https://security-tracker.debian.org/tracker/TEMP-0841856-B18BAF",
			},
		},
		{
			name: "vendor IDs link to the first vendor reference",
			adv:  vulndb.Advisory{VulnerabilityID: "DLA-3000-1", DataSource: debianSource},
			vuln: withRefs(vulndb.Vulnerability{}, "https://example.com/x", "https://www.debian.org/lts/security/2022/dla-3000", "https://www.debian.org/other"),
			want: vulndb.Assessment{
				Status:     vulndb.FixStatusAffected,
				PrimaryURL: "https://www.debian.org/lts/security/2022/dla-3000",
			},
		},
		{
			name: "Ubuntu references",
			adv:  vulndb.Advisory{VulnerabilityID: "USN-1-1", DataSource: ubuntu},
			vuln: withRefs(vulndb.Vulnerability{}, "https://usn.ubuntu.com/1-1/"),
			want: vulndb.Assessment{Status: vulndb.FixStatusAffected, PrimaryURL: "https://usn.ubuntu.com/1-1/"},
		},
		{
			name: "no matching reference",
			adv:  vulndb.Advisory{VulnerabilityID: "ALAS-2024-1", DataSource: vulndb.DataSource{ID: "amazon"}},
			vuln: withRefs(vulndb.Vulnerability{}, "https://alas.aws.amazon.com/ALAS-2024-1.html"),
			want: vulndb.Assessment{Status: vulndb.FixStatusAffected},
		},
		{
			name: "no details: unknown severity and no URL",
			adv:  vulndb.Advisory{VulnerabilityID: "CVE-2024-0404", FixedVersion: "1.0", DataSource: alpineSource},
			want: vulndb.Assessment{Status: vulndb.FixStatusFixed},
		},
		{
			name: "no details: package-specific severity kept",
			adv:  vulndb.Advisory{VulnerabilityID: "CVE-2024-0404", Severity: vulndb.SeverityHigh, DataSource: debianSource},
			want: vulndb.Assessment{Status: vulndb.FixStatusAffected, Severity: vulndb.SeverityHigh, SeveritySource: "debian"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before map[string]vulndb.Severity
			if tt.vuln != nil && tt.vuln.VendorSeverity != nil {
				before = map[string]vulndb.Severity{}
				for k, v := range tt.vuln.VendorSeverity {
					before[k] = v
				}
			}
			got := vulndb.Assess(tt.adv, tt.vuln)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if tt.vuln != nil && before != nil && !reflect.DeepEqual(tt.vuln.VendorSeverity, before) {
				t.Error("Assess changed the vulnerability's VendorSeverity")
			}
		})
	}
}

func TestNames(t *testing.T) {
	if got := vulndb.SeverityCritical.String(); got != "CRITICAL" {
		t.Errorf("SeverityCritical = %q", got)
	}
	if got := vulndb.Severity(9).String(); got != "UNKNOWN" {
		t.Errorf("Severity(9) = %q", got)
	}
	if s, ok := vulndb.ParseSeverity("MEDIUM"); s != vulndb.SeverityMedium || !ok {
		t.Errorf("ParseSeverity(MEDIUM) = %v, %v", s, ok)
	}
	if s, ok := vulndb.ParseSeverity("medium"); s != vulndb.SeverityUnknown || ok {
		t.Errorf("ParseSeverity(medium) = %v, %v", s, ok)
	}
	want := []string{"unknown", "not_affected", "affected", "fixed", "under_investigation", "will_not_fix", "fix_deferred", "end_of_life", "unknown"}
	for i, w := range want {
		if got := vulndb.FixStatus(i).String(); got != w {
			t.Errorf("FixStatus(%d) = %q, want %q", i, got, w)
		}
	}
}
