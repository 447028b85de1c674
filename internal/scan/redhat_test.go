package scan_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// ubi9Findings are the findings of the UBI 9-like image with unfixed
// ones: bash's unfixed CVEs with Red Hat's statuses (its RHEL 8-only and
// AppStream-only CVEs left out), openssl-libs' RHSA fixes (the highest fixed version of
// CVE-2024-0727 wins; the extended-support-only, s390x-only and already
// fixed advisories left out), and tzdata's, noarch, despite its
// advisory's architectures.
var ubi9Findings = []string{
	"bash 5.1.8-6.el9  CVE-2024-2511 MEDIUM/redhat fix_deferred",
	"bash 5.1.8-6.el9  CVE-2022-3715 LOW/redhat will_not_fix",
	"bash 5.1.8-6.el9  CVE-2024-3000 UNKNOWN/redhat affected",
	"openssl-libs 1:3.0.7-24.el9 1:3.0.7-27.el9 CVE-2024-0727 MEDIUM/redhat fixed",
	"openssl-libs 1:3.0.7-24.el9 1:3.0.7-27.el9 CVE-2023-5678 LOW/redhat fixed",
	"tzdata 2024a-1.el9 2024b-1.el9 CVE-2024-9998 LOW/redhat fixed",
}

// TestRedHatContentManifest: a UBI 9-like image whose content manifest
// names its content sets (with the build system's "__9" suffix).
func TestRedHatContentManifest(t *testing.T) {
	db := openDB(t, database())
	rep := runScan(t, ubi9Image(t), db, scan.Options{IncludeUnfixed: true})
	wantLines(t, rep, ubi9Findings...)
	if !rep.Supported() || *rep.Metadata.OS != (scan.OS{Family: "redhat", Name: "9.4"}) {
		t.Fatalf("OS %+v unsupported %q", rep.Metadata.OS, rep.Unsupported)
	}
	if res := rep.Results[0]; res.Target != "test/image:1 (redhat 9.4)" || res.Type != "redhat" {
		t.Fatalf("result header %+v", res)
	}

	var ssl, bash scan.DetectedVulnerability
	for _, v := range rep.Vulnerabilities() {
		switch {
		case v.VulnerabilityID == "CVE-2024-0727":
			ssl = v
		case v.VulnerabilityID == "CVE-2022-3715":
			bash = v
		}
	}
	if ssl.PkgID != "openssl-libs@3.0.7-24.el9.x86_64" ||
		ssl.PkgIdentifier.PURL != "pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=redhat-9.4&epoch=1" ||
		!reflect.DeepEqual(ssl.VendorIDs, []string{"RHSA-2024:2447"}) || ssl.DataSource != nil ||
		ssl.PrimaryURL != "https://avd.aquasec.com/nvd/cve-2024-0727" ||
		!reflect.DeepEqual(ssl.VendorSeverity, map[string]int{"debian": 2, "nvd": 3, "ubuntu": 1, "redhat": 2}) {
		t.Errorf("openssl-libs finding %+v", ssl)
	}
	if len(bash.VendorIDs) != 0 || bash.Title == "" || !reflect.DeepEqual(bash.VendorSeverity, map[string]int{"nvd": 3, "redhat": 1}) {
		t.Errorf("bash finding %+v", bash)
	}

	// Fixable only, as with --ignore-unfixed.
	rep = runScan(t, ubi9Image(t), db, scan.Options{})
	wantLines(t, rep, ubi9Findings[3:]...)
}

// TestRedHatBuildDockerfile: without a content manifest, the build NVR
// from the Dockerfile labels in root/buildinfo picks the CPEs.
func TestRedHatBuildDockerfile(t *testing.T) {
	db := openDB(t, database())
	rep := runScan(t, ubi9MinimalImage(t), db, scan.Options{IncludeUnfixed: true})
	// The build maps to AppStream and its own product too.
	wantLines(t, rep, append([]string{"bash 5.1.8-6.el9  CVE-2024-3002 HIGH/redhat under_investigation"},
		append(slices.Clone(ubi9Findings[:5]),
			"openssl-libs 1:3.0.7-24.el9 1:3.0.7-30.el9 CVE-2024-7777 LOW/redhat fixed",
			ubi9Findings[5])...)...)
}

// TestRedHatModularStream: an EL8 modular package is matched by its
// module stream (nodejs:18), not by other streams nor by its bare name;
// without build information the release's default content sets apply.
func TestRedHatModularStream(t *testing.T) {
	db := openDB(t, database())
	want := "nodejs 1:18.18.2-1.module+el8.9.0+20473+c4e3d824 1:18.19.0-1.module+el8.9.0+21000+aaaa0001 CVE-2023-46809 MEDIUM/redhat fixed"
	wantLines(t, runScan(t, ubi8Image(t), db, scan.Options{IncludeUnfixed: true}), want)

	// CentOS goes through the same detector.
	rep := runScan(t, centos8Image(t), db, scan.Options{IncludeUnfixed: true})
	wantLines(t, rep, want)
	if rep.Results[0].Type != "centos" {
		t.Errorf("type %q", rep.Results[0].Type)
	}
}

// TestRedHatNoCPE: content sets the database does not know, or a release
// without default content sets, fail the scan (as in Trivy) with an error
// naming the package and the content sets.
func TestRedHatNoCPE(t *testing.T) {
	db := openDB(t, database())
	for name, files := range map[string]map[string]string{
		"unknown content set": {
			"etc/os-release": rhel9OSRelease, "etc/redhat-release": rhel9Release,
			"var/lib/rpm/rpmdb.sqlite":                  redHatRPMDB(t, "rpmdb.sqlite"),
			"root/buildinfo/content_manifests/app.json": `{"content_sets":["rhel-9-for-x86_64-supplementary-rpms"]}`,
		},
		"RHEL 10 without build information": {
			"etc/os-release": "ID=\"rhel\"\nVERSION_ID=\"10.0\"\n", "etc/redhat-release": "Red Hat Enterprise Linux release 10.0 (Coughlan)\n",
			"var/lib/rpm/rpmdb.sqlite": redHatRPMDB(t, "rpmdb.sqlite"),
		},
	} {
		img := imagetest.Image(t, imagetest.FilesLayer(t, files))
		_, err := scan.Scan(context.Background(), img, db, scan.Options{ArtifactName: "test/image:1", Now: clock})
		if !errors.Is(err, vulndb.ErrNoRedHatCPE) || !strings.Contains(err.Error(), "test/image:1") || !strings.Contains(err.Error(), "package bash") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}
