package scan_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// lines summarises findings as "pkg installed fixed id severity/source status".
func lines(rep *scan.Report) []string {
	var out []string
	for _, v := range rep.Vulnerabilities() {
		out = append(out, fmt.Sprintf("%s %s %s %s %s/%s %s", v.PkgName, v.InstalledVersion, v.FixedVersion,
			v.VulnerabilityID, v.Severity, v.SeveritySource, v.Status))
	}
	return out
}

func runScan(t *testing.T, img v1.Image, db *vulndb.DB, opts scan.Options) *scan.Report {
	t.Helper()
	if opts.ArtifactName == "" {
		opts.ArtifactName = "test/image:1"
	}
	opts.Now = clock
	rep, err := scan.Scan(context.Background(), img, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func wantLines(t *testing.T, rep *scan.Report, want ...string) {
	t.Helper()
	if got := lines(rep); !reflect.DeepEqual(got, want) {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDebianFixableBySourcePackage(t *testing.T) {
	db := openDB(t, database())
	rep := runScan(t, debianImage(t), db, scan.Options{})
	wantLines(t, rep,
		"bsdutils 1:2.38.1-5+b1 2.38.1-5+deb12u1 CVE-2024-28085 LOW/ fixed",
		"libc6 2.36-9+deb12u3 2.36-9+deb12u7 CVE-2024-2961 HIGH/nvd fixed",
		"libssl3 3.0.11-1~deb12u2 3.0.13-1~deb12u1 CVE-2024-0727 MEDIUM/debian fixed",
		"login 1:4.13+dfsg1-1+b1 1:4.13+dfsg1-1+deb12u1 CVE-2023-4641 LOW/debian fixed",
		"openssl 3.0.11-1~deb12u2 3.0.13-1~deb12u1 CVE-2024-0727 MEDIUM/debian fixed",
	)
	if !rep.Supported() || rep.Metadata.OS == nil || *rep.Metadata.OS != (scan.OS{Family: "debian", Name: "12.5"}) {
		t.Fatalf("OS %+v unsupported %q", rep.Metadata.OS, rep.Unsupported)
	}
	res := rep.Results[0]
	if res.Target != "test/image:1 (debian 12.5)" || res.Class != "os-pkgs" || res.Type != "debian" {
		t.Fatalf("result header %+v", res)
	}
}

func TestDebianIncludeUnfixed(t *testing.T) {
	db := openDB(t, database())
	rep := runScan(t, debianImage(t), db, scan.Options{IncludeUnfixed: true})
	wantLines(t, rep,
		"bsdutils 1:2.38.1-5+b1 2.38.1-5+deb12u1 CVE-2024-28085 LOW/ fixed",
		"libc6 2.36-9+deb12u3 2.36-9+deb12u7 CVE-2024-2961 HIGH/nvd fixed",
		"libssl3 3.0.11-1~deb12u2 3.0.13-1~deb12u1 CVE-2024-0727 MEDIUM/debian fixed",
		"libssl3 3.0.11-1~deb12u2  CVE-2024-2511 LOW/debian will_not_fix",
		"libssl3 3.0.11-1~deb12u2  TEMP-0841856-B18BAF UNKNOWN/ affected",
		"login 1:4.13+dfsg1-1+b1 1:4.13+dfsg1-1+deb12u1 CVE-2023-4641 LOW/debian fixed",
		"openssl 3.0.11-1~deb12u2 3.0.13-1~deb12u1 CVE-2024-0727 MEDIUM/debian fixed",
		"openssl 3.0.11-1~deb12u2  CVE-2024-2511 LOW/debian will_not_fix",
		"openssl 3.0.11-1~deb12u2  TEMP-0841856-B18BAF UNKNOWN/ affected",
	)
	// Severity filter, as --severity.
	rep = runScan(t, debianImage(t), db, scan.Options{IncludeUnfixed: true, Severities: []vulndb.Severity{vulndb.SeverityUnknown, vulndb.SeverityHigh}})
	wantLines(t, rep,
		"libc6 2.36-9+deb12u3 2.36-9+deb12u7 CVE-2024-2961 HIGH/nvd fixed",
		"libssl3 3.0.11-1~deb12u2  TEMP-0841856-B18BAF UNKNOWN/ affected",
		"openssl 3.0.11-1~deb12u2  TEMP-0841856-B18BAF UNKNOWN/ affected",
	)
}

// TestDebianFindingFields checks every field of one finding against what
// Trivy writes for it.
func TestDebianFindingFields(t *testing.T) {
	db := openDB(t, database())
	img := debianImage(t)
	rep := runScan(t, img, db, scan.Options{})
	var got *scan.DetectedVulnerability
	for _, v := range rep.Vulnerabilities() {
		if v.PkgName == "libssl3" {
			got = &v
		}
	}
	layers, _ := img.Layers()
	digest, _ := layers[0].Digest()
	diffID, _ := layers[0].DiffID()
	want := fmt.Sprintf(`{
  "VulnerabilityID": "CVE-2024-0727",
  "VendorIDs": ["DSA-5600-1"],
  "PkgID": "libssl3@3.0.11-1~deb12u2",
  "PkgName": "libssl3",
  "PkgIdentifier": {"PURL": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5"},
  "InstalledVersion": "3.0.11-1~deb12u2",
  "FixedVersion": "3.0.13-1~deb12u1",
  "Status": "fixed",
  "Layer": {"Digest": %q, "DiffID": %q},
  "SeveritySource": "debian",
  "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-0727",
  "DataSource": {"ID": "debian", "Name": "Debian Security Tracker", "URL": "https://salsa.debian.org/security-tracker-team/security-tracker"},
  "Title": "openssl: denial of service via null dereference",
  "Description": "Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.",
  "Severity": "MEDIUM",
  "CweIDs": ["CWE-476"],
  "VendorSeverity": {"debian": 2, "nvd": 3, "ubuntu": 1},
  "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", "V3Score": 5.5}},
  "References": ["https://www.openssl.org/news/secadv/20240125.txt"],
  "PublishedDate": "2024-01-25T15:15:00Z"
}`, digest, diffID)
	assertJSON(t, got, want)
}

// assertJSON compares the JSON encoding of v with want, ignoring layout
// but not field order.
func assertJSON(t *testing.T, v any, want string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var compact strings.Builder
	dec := json.NewDecoder(strings.NewReader(want))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	wb, _ := json.Marshal(raw)
	compact.Write(wb)
	if string(b) != compact.String() {
		t.Fatalf("JSON:\n%s\nwant:\n%s", b, compact.String())
	}
}

func TestDistrolessStatusDAndWhiteout(t *testing.T) {
	db := openDB(t, database())
	img := distrolessImage(t)
	rep := runScan(t, img, db, scan.Options{})
	wantLines(t, rep, "libssl3 3.0.11-1~deb12u2 3.0.13-1~deb12u1 CVE-2024-0727 MEDIUM/debian fixed")

	// Without the whiteout, curl is reported.
	layers, _ := img.Layers()
	rep = runScan(t, imagetest.Image(t, layers[0]), db, scan.Options{})
	wantLines(t, rep,
		"curl 7.88.1-10+deb12u4 7.88.1-10+deb12u6 CVE-2024-2398 UNKNOWN/ fixed",
		"libssl3 3.0.11-1~deb12u2 3.0.13-1~deb12u1 CVE-2024-0727 MEDIUM/debian fixed")
}

func TestUbuntuDropsVendorStatusAndIDs(t *testing.T) {
	db := openDB(t, database())
	img := ubuntuImage(t)
	rep := runScan(t, img, db, scan.Options{IncludeUnfixed: true})
	wantLines(t, rep,
		"libssl3 3.0.2-0ubuntu1.10 3.0.2-0ubuntu1.14 CVE-2024-0727 LOW/ubuntu fixed",
		"libssl3 3.0.2-0ubuntu1.10  CVE-2024-2511 UNKNOWN/ affected",
	)
	if v := rep.Vulnerabilities()[0]; v.VendorIDs != nil || v.PkgIdentifier.PURL != "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?arch=amd64&distro=ubuntu-22.04" {
		t.Fatalf("finding %+v", v)
	}
}

func TestAlpineByOrigin(t *testing.T) {
	db := openDB(t, database())
	img := alpineWithOrigins(t)
	rep := runScan(t, img, db, scan.Options{})
	wantLines(t, rep,
		"libcrypto3 3.1.4-r2 3.1.4-r5 CVE-2024-0727 HIGH/nvd fixed",
		"libssl3 3.1.4-r2 3.1.4-r5 CVE-2024-0727 HIGH/nvd fixed",
		"openssl 3.1.4-r2 3.1.4-r5 CVE-2024-0727 HIGH/nvd fixed",
	)
	if got := rep.Vulnerabilities()[0].PkgIdentifier.PURL; got != "pkg:apk/alpine/libcrypto3@3.1.4-r2?arch=x86_64&distro=3.19.1" {
		t.Fatalf("PURL %s", got)
	}
	rep = runScan(t, img, db, scan.Options{IncludeUnfixed: true})
	if n := len(rep.Vulnerabilities()); n != 6 {
		t.Fatalf("with unfixed: %d findings\n%s", n, strings.Join(lines(rep), "\n"))
	}
}

// TestRockyRPMArchAndDedup: hello is Rocky's own package (its VENDOR);
// zdata, which has an advisory too, has no VENDOR and so comes from a
// third-party repository: Rocky's advisories do not cover it, and it is
// left out, as Trivy does.
func TestRockyRPMArchAndDedup(t *testing.T) {
	db := openDB(t, database())
	img := rockyImage(t)
	rep := runScan(t, img, db, scan.Options{})
	wantLines(t, rep,
		"hello 1:1.2.3-4.el9 1:1.2.3-6.el9 CVE-2024-1000 HIGH/rocky fixed",
	)
	v := rep.Vulnerabilities()[0]
	if v.PkgID != "hello@1.2.3-4.el9.x86_64" || v.PkgIdentifier.PURL != "pkg:rpm/rocky/hello@1.2.3-4.el9?arch=x86_64&distro=rocky-9.3&epoch=1" {
		t.Fatalf("finding %+v", v)
	}
}

func TestUnsupportedImages(t *testing.T) {
	db := openDB(t, database())
	for name, tc := range map[string]struct {
		img    v1.Image
		reason string
	}{
		"windows": {imagetest.WindowsImage(t, imagetest.FilesLayer(t, map[string]string{"Files/Windows/System32/config/SOFTWARE": "x"})), ospkg.ReasonWindows},
		"no OS":   {imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{"app/server": "binary"})), ospkg.ReasonNoOS},
		"fedora": {imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
			"etc/os-release": "ID=fedora\nVERSION_ID=40\n", "etc/fedora-release": "Fedora release 40 (Forty)\n",
		})), scan.ReasonNoAdvisories + " (fedora 40)"},
	} {
		t.Run(name, func(t *testing.T) {
			rep := runScan(t, tc.img, db, scan.Options{})
			if rep.Supported() || rep.Unsupported != tc.reason || len(rep.Results) != 0 {
				t.Fatalf("report %+v", rep)
			}
			b, _ := json.Marshal(rep)
			if strings.Contains(string(b), "Results") || strings.Contains(string(b), "Unsupported") {
				t.Fatalf("JSON %s", b)
			}
		})
	}
}

func TestEOSL(t *testing.T) {
	db := openDB(t, database())
	img := imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":      "ID=debian\nVERSION_ID=\"10\"\n",
		"etc/debian_version":  "10.13\n",
		"var/lib/dpkg/status": "Package: libssl1.1\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 1.1.1n-0+deb10u3\n",
	}))
	rep := runScan(t, img, db, scan.Options{})
	if rep.Metadata.OS == nil || !rep.Metadata.OS.EOSL {
		t.Fatalf("OS %+v, want EOSL", rep.Metadata.OS)
	}
	wantLines(t, rep, "libssl1.1 1.1.1n-0+deb10u3 3.0.13-1~deb12u1 CVE-2024-0727 MEDIUM/debian fixed")
	b, _ := json.Marshal(rep.Metadata.OS)
	if string(b) != `{"Family":"debian","Name":"10.13","EOSL":true}` {
		t.Fatalf("OS JSON %s", b)
	}
	b, _ = json.Marshal(runScan(t, debianImage(t), db, scan.Options{}).Metadata.OS)
	if string(b) != `{"Family":"debian","Name":"12.5"}` {
		t.Fatalf("OS JSON %s", b)
	}
}

func TestCacheSkipsLayersOnRescan(t *testing.T) {
	cache, err := ospkg.NewDirCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	img, counter := imagetest.Count(debianImage(t))
	db := openDB(t, database())
	first := runScan(t, img, db, scan.Options{Cache: cache})
	opened := counter.Total()
	if opened == 0 || first.Stats.FromCache {
		t.Fatalf("first scan opened %d layers, stats %+v", opened, first.Stats)
	}
	// A newer database: the openssl fix moved on.
	d := database()
	d.Platforms[0].Packages["openssl"][0].FixedVersion = "3.0.14-1~deb12u1"
	db2 := openDB(t, d)
	second := runScan(t, img, db2, scan.Options{Cache: cache})
	if counter.Total() != opened || !second.Stats.FromCache || second.Stats.LayersRead != 0 {
		t.Fatalf("second scan opened %d more layers, stats %+v", counter.Total()-opened, second.Stats)
	}
	if got := second.Vulnerabilities()[2].FixedVersion; got != "3.0.14-1~deb12u1" {
		t.Fatalf("second scan used old advisories: %s", got)
	}
}

func TestReportRoundTrip(t *testing.T) {
	db := openDB(t, database())
	rep := runScan(t, debianImage(t), db, scan.Options{IncludeUnfixed: true, RepoTags: []string{"test/image:1"}})
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	back, err := scan.ReadReport(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.MarshalIndent(back, "", "  ")
	if string(b) != string(b2) {
		t.Fatalf("round trip changed the report:\n%s\n---\n%s", b, b2)
	}
	for _, bad := range []string{`[]`, `{"SchemaVersion": 1}`, `{"SchemaVersion": 2} {}`, `{`} {
		if _, err := scan.ReadReport(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadReport(%s) succeeded", bad)
		}
	}
}

func TestUnparsableInstalledVersionIsAWarning(t *testing.T) {
	db := openDB(t, database())
	img := imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":       "ID=alpine\nVERSION_ID=3.19.1\n",
		"etc/alpine-release":   "3.19.1\n",
		"lib/apk/db/installed": "P:libssl3\nV:1.0~~~bad!\nA:x86_64\no:openssl\n\nP:libcrypto3\nV:3.1.4-r2\nA:x86_64\no:openssl\n",
	}))
	rep := runScan(t, img, db, scan.Options{})
	wantLines(t, rep,
		"libcrypto3 3.1.4-r2 3.1.4-r5 CVE-2024-0727 HIGH/nvd fixed",
	)
	want := []scan.Warning{{PkgName: "libssl3", InstalledVersion: "1.0~~~bad!",
		Message: `package libssl3: installed version "1.0~~~bad!" cannot be parsed (invalid version); its vulnerabilities were not checked`}}
	if !reflect.DeepEqual(rep.Warnings, want) {
		t.Errorf("warnings = %+v\nwant %+v", rep.Warnings, want)
	}
}
