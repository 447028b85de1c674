package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// now is the fixed scan time of the tests.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

var published = time.Date(2024, 1, 25, 15, 15, 0, 0, time.UTC)

// debianStatus is a dpkg status file with source packages (openssl builds
// libssl3 and openssl), a binNMU whose binary version carries an epoch its
// source lacks (bsdutils from util-linux), a source with an epoch (login
// from shadow) and a removed package.
const debianStatus = `Package: bsdutils
Status: install ok installed
Architecture: amd64
Source: util-linux (2.38.1-5)
Version: 1:2.38.1-5+b1

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u3

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2

Package: login
Status: install ok installed
Architecture: amd64
Source: shadow (1:4.13+dfsg1-1)
Version: 1:4.13+dfsg1-1+b1

Package: openssl
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u2

Package: curl
Status: deinstall ok config-files
Architecture: amd64
Version: 7.88.1-10+deb12u4
`

const debianOSRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"

// debianImage is a one-layer Debian 12.5 image (plus an empty top layer).
func debianImage(t testing.TB) v1.Image {
	return imagetest.Image(t,
		imagetest.FilesLayer(t, map[string]string{
			"etc/os-release":      debianOSRelease,
			"etc/debian_version":  "12.5\n",
			"var/lib/dpkg/status": debianStatus,
		}),
		imagetest.FilesLayer(t, map[string]string{"app/hello": "hi\n"}),
	)
}

// database returns the test vulnerability database.
func database() vulndbtest.Database {
	debian := vulndb.DataSource{ID: "debian", Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"}
	return vulndbtest.Database{
		Metadata: vulndb.Metadata{UpdatedAt: now.Add(-2 * time.Hour), NextUpdate: now.Add(22 * time.Hour)},
		Platforms: []vulndbtest.Platform{
			{
				Name: "debian 12", DataSource: debian,
				Packages: map[string][]vulndb.Advisory{
					"openssl": {
						{VulnerabilityID: "CVE-2024-0727", FixedVersion: "3.0.13-1~deb12u1", VendorIDs: []string{"DSA-5600-1"}},
						{VulnerabilityID: "CVE-2023-5678", FixedVersion: "3.0.11-1~deb12u1"},
						{VulnerabilityID: "CVE-2024-2511", Status: vulndb.FixStatusWillNotFix, Severity: vulndb.SeverityLow},
						{VulnerabilityID: "TEMP-0841856-B18BAF"},
					},
					"glibc":      {{VulnerabilityID: "CVE-2024-2961", FixedVersion: "2.36-9+deb12u7"}},
					"util-linux": {{VulnerabilityID: "CVE-2024-28085", FixedVersion: "2.38.1-5+deb12u1"}},
					"shadow": {
						{VulnerabilityID: "CVE-2023-4641", FixedVersion: "1:4.13+dfsg1-1+deb12u1"},
						{VulnerabilityID: "CVE-2023-29383", FixedVersion: "4.13+dfsg1-2"}, // epoch 0 < 1: not affected
					},
					"curl":  {{VulnerabilityID: "CVE-2024-2398", FixedVersion: "7.88.1-10+deb12u6"}},
					"libc6": {{VulnerabilityID: "CVE-2099-0001", FixedVersion: "9.0"}}, // binary name: never queried
				},
			},
			{
				Name: "debian 10", DataSource: debian,
				Packages: map[string][]vulndb.Advisory{
					"openssl": {{VulnerabilityID: "CVE-2024-0727", FixedVersion: "3.0.13-1~deb12u1"}},
				},
			},
			{
				Name:       "ubuntu 22.04",
				DataSource: vulndb.DataSource{ID: "ubuntu", Name: "Ubuntu CVE Tracker", URL: "https://git.launchpad.net/ubuntu-cve-tracker"},
				Packages: map[string][]vulndb.Advisory{
					"openssl": {
						{VulnerabilityID: "CVE-2024-0727", FixedVersion: "3.0.2-0ubuntu1.14", VendorIDs: []string{"USN-6622-1"}},
						{VulnerabilityID: "CVE-2024-2511", Status: vulndb.FixStatusWillNotFix},
					},
				},
			},
			{
				Name:       "alpine 3.19",
				DataSource: vulndb.DataSource{ID: "alpine", Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"},
				Packages: map[string][]vulndb.Advisory{
					"openssl": {
						{VulnerabilityID: "CVE-2024-0727", FixedVersion: "3.1.4-r5"},
						{VulnerabilityID: "CVE-2023-6129", FixedVersion: "3.1.4-r1"},
						{VulnerabilityID: "CVE-2024-9999"},
					},
					"musl": {{VulnerabilityID: "CVE-2025-26519", AffectedVersion: "1.2.5-r0", FixedVersion: "1.2.5-r9"}},
				},
			},
			{
				Name:       "rocky 9",
				DataSource: vulndb.DataSource{ID: "rocky", Name: "Rocky Linux updateinfo", URL: "https://download.rockylinux.org/pub/rocky/"},
				Packages: map[string][]vulndb.Advisory{
					"hello": {
						{VulnerabilityID: "CVE-2024-1000", FixedVersion: "1:1.2.3-5.el9", Arches: []string{"x86_64"}},
						{VulnerabilityID: "CVE-2024-1000", FixedVersion: "1:1.2.3-6.el9", Arches: []string{"aarch64", "x86_64"}},
						{VulnerabilityID: "CVE-2024-1003", FixedVersion: "1:1.2.3-4.el9", Arches: []string{"x86_64"}},
					},
					"libhello": {{VulnerabilityID: "CVE-2024-1001", FixedVersion: "1:1.2.3-5.el9", Arches: []string{"aarch64"}}},
					"zdata":    {{VulnerabilityID: "CVE-2024-1002", FixedVersion: "0:2024b-1.el9", Arches: []string{"noarch"}}},
				},
			},
		},
		RedHat: redHatData(),
		Vulnerabilities: []vulndb.Vulnerability{
			{ID: "CVE-2022-3715", Title: "bash: a heap-buffer-overflow in valid_parameter_transform",
				VendorSeverity: map[string]vulndb.Severity{"nvd": vulndb.SeverityHigh, "redhat": vulndb.SeverityLow},
				References:     []string{"https://access.redhat.com/security/cve/CVE-2022-3715"}},
			{ID: "CVE-2024-9998", Title: "tzdata: stale zone", Severity: vulndb.SeverityLow},
			{ID: "CVE-2023-46809", Title: "nodejs: Marvin attack", VendorSeverity: map[string]vulndb.Severity{"nvd": vulndb.SeverityHigh}},
			{
				ID: "CVE-2024-0727", Title: "openssl: denial of service via null dereference",
				Description:    "Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.",
				Severity:       vulndb.SeverityMedium,
				CweIDs:         []string{"CWE-476"},
				VendorSeverity: map[string]vulndb.Severity{"debian": vulndb.SeverityMedium, "nvd": vulndb.SeverityHigh, "ubuntu": vulndb.SeverityLow},
				CVSS:           map[string]vulndb.CVSS{"nvd": {V3Vector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", V3Score: 5.5}},
				References:     []string{"https://www.openssl.org/news/secadv/20240125.txt"},
				PublishedDate:  &published,
			},
			{ID: "CVE-2024-2961", Title: "glibc: out of bounds write in iconv", VendorSeverity: map[string]vulndb.Severity{"nvd": vulndb.SeverityHigh}},
			{ID: "CVE-2024-28085", Title: "util-linux: wall escape sequences", Severity: vulndb.SeverityLow},
			{ID: "CVE-2023-4641", Title: "shadow-utils: password leak", VendorSeverity: map[string]vulndb.Severity{"debian": vulndb.SeverityLow}},
			{ID: "CVE-2024-1000", Title: "hello: overflow", VendorSeverity: map[string]vulndb.Severity{"rocky": vulndb.SeverityHigh}},
			{ID: "CVE-2024-1002", Title: "zdata: stale zone", VendorSeverity: map[string]vulndb.Severity{"rocky": vulndb.SeverityLow}},
		},
	}
}

// openDB writes d to a fresh directory and opens it.
func openDB(t testing.TB, d vulndbtest.Database) *vulndb.DB {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	if err := vulndbtest.Write(dir, d); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// rpmdb returns the rpm database fixture checked in by ospkg: hello and
// libhello 1:1.2.3-4.el9 x86_64 (Rocky's VENDOR), zdata 2024a-1.el9 noarch
// (no VENDOR: third-party).
func rpmdb(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../ospkg/testdata/rpm/rpmdb.sqlite")
	if err != nil {
		t.Skipf("rpm fixture missing: %v", err)
	}
	return string(b)
}

// distrolessImage is a distroless Debian 12 image (status.d) whose upper layer whites out curl.
func distrolessImage(t testing.TB) v1.Image {
	t.Helper()
	return imagetest.Image(t,
		imagetest.FilesLayer(t, map[string]string{
			"etc/os-release":                     debianOSRelease,
			"etc/debian_version":                 "12.5\n",
			"var/lib/dpkg/status.d/libssl3":      "Package: libssl3\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n",
			"var/lib/dpkg/status.d/curl":         "Package: curl\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u4\n",
			"var/lib/dpkg/status.d/curl.md5sums": "d41d8cd98f00b204e9800998ecf8427e  usr/bin/curl\n",
		}),
		imagetest.Layer(t, imagetest.Dir("var/"), imagetest.Dir("var/lib/"), imagetest.Dir("var/lib/dpkg/"),
			imagetest.Dir("var/lib/dpkg/status.d/"), imagetest.Whiteout("var/lib/dpkg/status.d/curl")),
	)
}

// ubuntuImage is an Ubuntu 22.04 image with libssl3.
func ubuntuImage(t testing.TB) v1.Image {
	t.Helper()
	return imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":      "ID=ubuntu\nVERSION_ID=\"22.04\"\n",
		"etc/lsb-release":     "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n",
		"etc/debian_version":  "bookworm/sid\n",
		"var/lib/dpkg/status": "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.2-0ubuntu1.10\n",
	}))
}

// alpineWithOrigins is an Alpine 3.19 image with three binaries of openssl and musl.
func alpineWithOrigins(t testing.TB) v1.Image {
	t.Helper()
	installed := "P:libcrypto3\nV:3.1.4-r2\nA:x86_64\no:openssl\n\nP:libssl3\nV:3.1.4-r2\nA:x86_64\no:openssl\n\n" +
		"P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n\nP:openssl\nV:3.1.4-r2\nA:x86_64\no:openssl\n"
	return imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":       "ID=alpine\nVERSION_ID=3.19.1\n",
		"etc/alpine-release":   "3.19.1\n",
		"etc/apk/repositories": "https://dl-cdn.alpinelinux.org/alpine/v3.19/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.19/community\n",
		"lib/apk/db/installed": installed,
	}))
}

// rockyImage is a Rocky Linux 9.3 image with the rpm database fixture.
func rockyImage(t testing.TB) v1.Image {
	t.Helper()
	return imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":           "NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n",
		"etc/rocky-release":        "Rocky Linux release 9.3 (Blue Onyx)\n",
		"etc/redhat-release":       "Rocky Linux release 9.3 (Blue Onyx)\n",
		"var/lib/rpm/rpmdb.sqlite": rpmdb(t),
	}))
}

// redHatData is the Red Hat part of the test database. CPE indices: 0
// RHEL 9 BaseOS, 1 RHEL 9 AppStream, 2 RHEL 8 BaseOS, 3 RHEL 8 AppStream,
// 4 RHEL 9.2 extended support AppStream, 5 a product only the UBI 9
// minimal build maps to. The UBI 9 manifest names BaseOS only and the
// minimal build maps to 0, 1 and 5, so that neither gives the findings of
// the default content sets (0 and 1).
func redHatData() *vulndbtest.RedHat {
	type cve = vulndbtest.RedHatCVE
	type entry = vulndbtest.RedHatEntry
	return &vulndbtest.RedHat{
		DataSource: vulndb.DataSource{ID: "redhat-csaf-vex", Name: "Red Hat CSAF VEX", URL: "https://access.redhat.com/security/data/csaf/v2/vex/"},
		Repositories: map[string][]int{
			"rhel-9-for-x86_64-baseos-rpms":                 {0},
			"rhel-9-for-x86_64-appstream-rpms":              {1},
			"rhel-8-for-x86_64-baseos-rpms":                 {2},
			"rhel-8-for-x86_64-appstream-rpms":              {3},
			"rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_2": {4},
		},
		NVRs: map[string][]int{"ubi9-minimal-container-9.4-949-x86_64": {0, 1, 5}},
		CPEs: []string{
			"cpe:/o:redhat:enterprise_linux:9::baseos", "cpe:/a:redhat:enterprise_linux:9::appstream",
			"cpe:/o:redhat:enterprise_linux:8::baseos", "cpe:/a:redhat:enterprise_linux:8::appstream",
			"cpe:/a:redhat:rhel_eus:9.2::appstream", "cpe:/a:redhat:ubi_minimal:9",
		},
		Packages: map[string][]vulndbtest.RedHatAdvisory{
			"openssl-libs": {
				{Key: "RHSA-2024:2447", Entries: []entry{
					{FixedVersion: "1:3.0.7-27.el9", CPEs: []int{0}, Arches: []string{"aarch64", "x86_64"},
						CVEs: []cve{{ID: "CVE-2023-5678", Severity: vulndb.SeverityLow}, {ID: "CVE-2024-0727", Severity: vulndb.SeverityMedium}}},
					{FixedVersion: "1:1.1.1k-12.el8_9", CPEs: []int{2}, CVEs: []cve{{ID: "CVE-2024-0727", Severity: vulndb.SeverityLow}}},
				}},
				// An older fix of the same CVE: the highest fixed version wins.
				{Key: "RHSA-2024:1999", Entries: []entry{
					{FixedVersion: "1:3.0.7-25.el9", CPEs: []int{0}, CVEs: []cve{{ID: "CVE-2024-0727", Severity: vulndb.SeverityMedium}}},
				}},
				// Already fixed in the installed version.
				{Key: "RHSA-2023:1111", Entries: []entry{
					{FixedVersion: "1:3.0.7-20.el9", CPEs: []int{0}, CVEs: []cve{{ID: "CVE-2023-0286", Severity: vulndb.SeverityHigh}}},
				}},
				// Only for extended support: the image's CPEs do not match.
				{Key: "RHSA-2024:5000", Entries: []entry{
					{FixedVersion: "1:3.0.7-28.el9_2", CPEs: []int{4}, CVEs: []cve{{ID: "CVE-2024-5535", Severity: vulndb.SeverityHigh}}},
				}},
				// Only for the UBI 9 minimal build.
				{Key: "RHSA-2024:7000", Entries: []entry{
					{FixedVersion: "1:3.0.7-30.el9", CPEs: []int{5}, CVEs: []cve{{ID: "CVE-2024-7777", Severity: vulndb.SeverityLow}}},
				}},
				// Only for another architecture.
				{Key: "RHSA-2024:6000", Entries: []entry{
					{FixedVersion: "1:3.0.7-29.el9", CPEs: []int{0}, Arches: []string{"s390x"}, CVEs: []cve{{ID: "CVE-2024-6119", Severity: vulndb.SeverityHigh}}},
				}},
			},
			"bash": {
				{Key: "CVE-2022-3715", Entries: []entry{{Status: vulndb.FixStatusWillNotFix, CPEs: []int{0}, CVEs: []cve{{Severity: vulndb.SeverityLow}}}}},
				{Key: "CVE-2024-2511", Entries: []entry{{Status: vulndb.FixStatusFixDeferred, CPEs: []int{1, 0}, CVEs: []cve{{Severity: vulndb.SeverityMedium}}}}},
				{Key: "CVE-2024-3000", Entries: []entry{{Status: vulndb.FixStatusAffected, CPEs: []int{0}, CVEs: []cve{{}}}}},
				{Key: "CVE-2024-3002", Entries: []entry{{Status: vulndb.FixStatusUnderInvestigation, CPEs: []int{1}, CVEs: []cve{{Severity: vulndb.SeverityHigh}}}}},
				{Key: "CVE-2024-3001", Entries: []entry{{Status: vulndb.FixStatusUnderInvestigation, CPEs: []int{2}, CVEs: []cve{{Severity: vulndb.SeverityHigh}}}}},
			},
			"tzdata": {
				// A noarch package matches whatever the architectures.
				{Key: "RHSA-2024:1234", Entries: []entry{
					{FixedVersion: "2024b-1.el9", CPEs: []int{0}, Arches: []string{"aarch64", "x86_64"}, CVEs: []cve{{ID: "CVE-2024-9998", Severity: vulndb.SeverityLow}}},
				}},
			},
			"nodejs:18::nodejs": {
				{Key: "RHSA-2024:0001", Entries: []entry{
					{FixedVersion: "1:18.19.0-1.module+el8.9.0+21000+aaaa0001", CPEs: []int{3}, Arches: []string{"x86_64"},
						CVEs: []cve{{ID: "CVE-2023-46809", Severity: vulndb.SeverityMedium}}},
				}},
			},
			"nodejs:20::nodejs": { // another stream
				{Key: "RHSA-2024:0002", Entries: []entry{
					{FixedVersion: "1:20.11.1-1.module+el8.9.0+21000+aaaa0002", CPEs: []int{3}, CVEs: []cve{{ID: "CVE-2024-22019", Severity: vulndb.SeverityHigh}}},
				}},
			},
			"nodejs": { // the non-modular name
				{Key: "RHSA-2024:0003", Entries: []entry{
					{FixedVersion: "1:22.0.0-1.el8", CPEs: []int{3}, CVEs: []cve{{ID: "CVE-2024-27983", Severity: vulndb.SeverityHigh}}},
				}},
			},
		},
	}
}

// Red Hat release files and build information.
const (
	rhel9OSRelease = "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n"
	rhel9Release   = "Red Hat Enterprise Linux release 9.4 (Plow)\n"
	// ubi9Manifest names its content sets with the "__9" suffix Red Hat's
	// build system adds.
	ubi9Manifest = `{"metadata":{"icm_version":1,"image_layer_index":0},` +
		`"content_sets":["rhel-9-for-x86_64-baseos-rpms__9"],"image_contents":[]}`
	ubi9MinimalDockerfile = "FROM koji/image-build\n" +
		"LABEL com.redhat.component=\"ubi9-minimal-container\" \\\n      name=\"ubi9-minimal\" \\\n      version=\"9.4\"\n" +
		"LABEL \"release\"=\"949\" \"architecture\"=\"x86_64\" \"vendor\"=\"Red Hat, Inc.\"\n"
)

// redHatRPMDB reads a Red Hat rpm database fixture of ospkg (see its
// testdata/redhat/README.md).
func redHatRPMDB(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("../ospkg/testdata/redhat/" + name)
	if err != nil {
		t.Skipf("rpm fixture missing: %v", err)
	}
	return string(b)
}

// ubi9Image is a UBI 9-like image: a base layer with a content manifest
// and the rpm database (openssl-libs, bash, tzdata), and a user layer.
func ubi9Image(t testing.TB) v1.Image {
	t.Helper()
	return imagetest.Image(t,
		imagetest.FilesLayer(t, map[string]string{
			"etc/os-release":           rhel9OSRelease,
			"etc/redhat-release":       rhel9Release,
			"var/lib/rpm/rpmdb.sqlite": redHatRPMDB(t, "rpmdb.sqlite"),
			"root/buildinfo/content_manifests/ubi9-container-9.4-1123.json": ubi9Manifest,
		}),
		imagetest.FilesLayer(t, map[string]string{"app/run": "#!/bin/sh\n"}),
	)
}

// ubi9MinimalImage is a UBI 9 minimal-like image without content
// manifest: its build Dockerfile's labels give the build NVR.
func ubi9MinimalImage(t testing.TB) v1.Image {
	t.Helper()
	return imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":           rhel9OSRelease,
		"etc/redhat-release":       rhel9Release,
		"var/lib/rpm/rpmdb.sqlite": redHatRPMDB(t, "rpmdb.sqlite"),
		"root/buildinfo/Dockerfile-ubi9-minimal-container-9.4-949": ubi9MinimalDockerfile,
	}))
}

// ubi8Image is an EL8-style image without build information, whose
// nodejs comes from the nodejs:18 module stream.
func ubi8Image(t testing.TB) v1.Image {
	t.Helper()
	return imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":           "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"8.9\"\n",
		"etc/redhat-release":       "Red Hat Enterprise Linux release 8.9 (Ootpa)\n",
		"var/lib/rpm/rpmdb.sqlite": redHatRPMDB(t, "el8-modular.sqlite"),
	}))
}

// centos8Image is a CentOS 8 image with the EL8 modular nodejs; CentOS goes
// through Red Hat's detector with the default content sets.
func centos8Image(t testing.TB) v1.Image {
	t.Helper()
	return imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":           "NAME=\"CentOS Linux\"\nID=\"centos\"\nVERSION_ID=\"8\"\n",
		"etc/centos-release":       "CentOS Linux release 8.4.2105\n",
		"var/lib/rpm/rpmdb.sqlite": redHatRPMDB(t, "el8-modular.sqlite"),
	}))
}
