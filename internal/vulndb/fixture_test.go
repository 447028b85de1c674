package vulndb_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// Times shared by the tests; the sample database was built at updatedAt.
var (
	updatedAt  = time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
	nextUpdate = updatedAt.Add(24 * time.Hour)
	published  = time.Date(2024, 1, 10, 15, 4, 5, 0, time.UTC)
	modified   = time.Date(2024, 2, 20, 8, 0, 0, 0, time.UTC)
)

var (
	debianSource = vulndb.DataSource{ID: "debian", Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"}
	alpineSource = vulndb.DataSource{ID: "alpine", Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"}
	rockySource  = vulndb.DataSource{ID: "rocky", Name: "Rocky Linux updateinfo", URL: "https://download.rockylinux.org/pub/rocky/"}
)

// sample describes a small database covering each way Trivy stores data.
func sample() vulndbtest.Database {
	return vulndbtest.Database{
		Metadata: vulndb.Metadata{Version: 2, UpdatedAt: updatedAt, NextUpdate: nextUpdate},
		Platforms: []vulndbtest.Platform{
			{
				Name:       "debian 12",
				DataSource: debianSource,
				Packages: map[string][]vulndb.Advisory{
					"openssl": {
						{VulnerabilityID: "CVE-2024-0001", FixedVersion: "3.0.13-1~deb12u1", VendorIDs: []string{"DSA-5600-1"}},
						{VulnerabilityID: "CVE-2024-0002", Status: vulndb.FixStatusWillNotFix, Severity: vulndb.SeverityLow},
					},
					"glibc": {
						{VulnerabilityID: "TEMP-0841856-B18BAF", Status: vulndb.FixStatusFixDeferred, Custom: json.RawMessage(`{"note":"x"}`)},
					},
				},
			},
			{
				Name:       "alpine 3.19",
				DataSource: alpineSource,
				Packages: map[string][]vulndb.Advisory{
					"openssl": {{VulnerabilityID: "CVE-2024-0001", FixedVersion: "3.1.4-r5"}},
				},
			},
			{
				Name:       "rocky 9",
				DataSource: rockySource,
				Packages: map[string][]vulndb.Advisory{
					"openssl": {
						{VulnerabilityID: "CVE-2024-0001", FixedVersion: "1:3.0.7-25.el9_3", Arches: []string{"aarch64", "x86_64"}, VendorIDs: []string{"RLSA-2024:0310"}},
						{VulnerabilityID: "CVE-2024-0001", FixedVersion: "1:3.0.7-26.el9", Arches: []string{"ppc64le"}, VendorIDs: []string{"RLSA-2024:0400"}},
					},
				},
			},
			{
				// No data source recorded for this one.
				Name: "ubuntu 22.04",
				Packages: map[string][]vulndb.Advisory{
					"openssl": {{VulnerabilityID: "CVE-2024-0003"}},
				},
			},
		},
		Vulnerabilities: []vulndb.Vulnerability{
			{
				ID:             "CVE-2024-0001",
				Title:          "openssl: buffer overread",
				Description:    "A long description.",
				Severity:       vulndb.SeverityHigh,
				CweIDs:         []string{"CWE-125"},
				VendorSeverity: map[string]vulndb.Severity{"nvd": vulndb.SeverityCritical, "debian": vulndb.SeverityMedium},
				CVSS: map[string]vulndb.CVSS{
					"nvd": {V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", V3Score: 9.8},
				},
				References:       []string{"https://www.openssl.org/news/secadv/20240110.txt", "https://www.debian.org/security/2024/dsa-5600"},
				PublishedDate:    &published,
				LastModifiedDate: &modified,
			},
			{
				ID:             "CVE-2024-0002",
				Severity:       vulndb.SeverityHigh,
				VendorSeverity: map[string]vulndb.Severity{"nvd": vulndb.SeverityHigh},
			},
		},
	}
}

// writeSample writes the sample database into a new directory.
func writeSample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := vulndbtest.Write(dir, sample()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openSample opens the sample database for the duration of the test.
func openSample(t *testing.T) *vulndb.DB {
	t.Helper()
	db, err := vulndb.Open(t.Context(), writeSample(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}
