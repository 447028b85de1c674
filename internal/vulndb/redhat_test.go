package vulndb_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// redHatDB writes a database with only Red Hat data: content sets of
// RHEL 9 (CPEs 0 and 1) and of RHEL 8 (CPE 2), one image NVR (CPE 1), an
// RHSA for openssl-libs on RHEL 9 and 8 with different fixed versions and
// severities, and an unfixed CVE on RHEL 8 only.
func redHatDB(t *testing.T) *vulndb.DB {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	err := vulndbtest.Write(dir, vulndbtest.Database{
		RedHat: &vulndbtest.RedHat{
			DataSource: vulndb.DataSource{ID: "redhat-csaf-vex", Name: "Red Hat CSAF VEX", URL: "https://access.redhat.com/security/data/csaf/v2/vex/"},
			Repositories: map[string][]int{
				"rhel-9-for-x86_64-baseos-rpms":    {0},
				"rhel-9-for-x86_64-appstream-rpms": {1},
				"rhel-8-for-x86_64-baseos-rpms":    {2},
			},
			NVRs: map[string][]int{"ubi9-container-9.4-1123-x86_64": {1, 0}},
			CPEs: []string{"cpe:/o:redhat:enterprise_linux:9::baseos", "cpe:/a:redhat:enterprise_linux:9::appstream", "cpe:/o:redhat:enterprise_linux:8::baseos"},
			Packages: map[string][]vulndbtest.RedHatAdvisory{
				"openssl-libs": {
					{Key: "RHSA-2024:2447", Entries: []vulndbtest.RedHatEntry{
						{FixedVersion: "1:3.0.7-27.el9", CPEs: []int{0}, Arches: []string{"aarch64", "x86_64"},
							CVEs: []vulndbtest.RedHatCVE{{ID: "CVE-2023-5678", Severity: vulndb.SeverityLow}, {ID: "CVE-2024-0727", Severity: vulndb.SeverityMedium}}},
						{FixedVersion: "1:1.1.1k-12.el8_9", CPEs: []int{2}, CVEs: []vulndbtest.RedHatCVE{{ID: "CVE-2024-0727", Severity: vulndb.SeverityLow}}},
					}},
					{Key: "CVE-2024-2511", Entries: []vulndbtest.RedHatEntry{
						{Status: vulndb.FixStatusWillNotFix, CPEs: []int{2}, CVEs: []vulndbtest.RedHatCVE{{Severity: vulndb.SeverityLow}}},
					}},
				},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestRedHatCPEs(t *testing.T) {
	db := redHatDB(t)
	for _, tc := range []struct {
		name       string
		sets, nvrs []string
		want       []int
	}{
		{"content sets", []string{"rhel-9-for-x86_64-appstream-rpms", "rhel-9-for-x86_64-baseos-rpms", "unknown-rpms"}, nil, []int{0, 1}},
		{"nvr", nil, []string{"ubi9-container-9.4-1123-x86_64"}, []int{0, 1}},
		{"both, deduplicated", []string{"rhel-9-for-x86_64-baseos-rpms"}, []string{"ubi9-container-9.4-1123-x86_64"}, []int{0, 1}},
		{"unknown", []string{"rhel-7-server-rpms"}, []string{"-"}, nil},
	} {
		got, err := db.RedHatCPEs(t.Context(), tc.sets, tc.nvrs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRedHatAdvisories(t *testing.T) {
	db := redHatDB(t)
	src := vulndb.DataSource{ID: "redhat-csaf-vex", Name: "Red Hat CSAF VEX", URL: "https://access.redhat.com/security/data/csaf/v2/vex/"}

	got, err := db.RedHatAdvisories(t.Context(), "openssl-libs", []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []vulndb.Advisory{
		{VulnerabilityID: "CVE-2023-5678", VendorIDs: []string{"RHSA-2024:2447"}, Arches: []string{"aarch64", "x86_64"},
			Severity: vulndb.SeverityLow, FixedVersion: "1:3.0.7-27.el9", DataSource: src},
		{VulnerabilityID: "CVE-2024-0727", VendorIDs: []string{"RHSA-2024:2447"}, Arches: []string{"aarch64", "x86_64"},
			Severity: vulndb.SeverityMedium, FixedVersion: "1:3.0.7-27.el9", DataSource: src},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RHEL 9:\ngot  %+v\nwant %+v", got, want)
	}

	got, err = db.RedHatAdvisories(t.Context(), "openssl-libs", []int{2})
	if err != nil {
		t.Fatal(err)
	}
	want = []vulndb.Advisory{
		{VulnerabilityID: "CVE-2024-2511", Status: vulndb.FixStatusWillNotFix, Severity: vulndb.SeverityLow, DataSource: src},
		{VulnerabilityID: "CVE-2024-0727", VendorIDs: []string{"RHSA-2024:2447"}, Severity: vulndb.SeverityLow, FixedVersion: "1:1.1.1k-12.el8_9", DataSource: src},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RHEL 8:\ngot  %+v\nwant %+v", got, want)
	}

	if got, err := db.RedHatAdvisories(t.Context(), "bash", []int{0}); err != nil || len(got) != 0 {
		t.Errorf("package without advisories: %v, %v", got, err)
	}
	if _, err := db.RedHatAdvisories(t.Context(), "openssl-libs", nil); !errors.Is(err, vulndb.ErrNoRedHatCPE) {
		t.Errorf("no CPE: err %v, want ErrNoRedHatCPE", err)
	}
}
