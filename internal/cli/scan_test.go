package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// scanDB is the test database: openssl fixed and unfixed, zlib unfixed.
func scanDB(updated time.Time, opensslFix string) vulndbtest.Database {
	return vulndbtest.Database{
		Metadata: vulndb.Metadata{UpdatedAt: updated, NextUpdate: updated.Add(24 * time.Hour)},
		Platforms: []vulndbtest.Platform{
			{
				Name:       "debian 12",
				DataSource: vulndb.DataSource{ID: "debian", Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"},
				Packages: map[string][]vulndb.Advisory{
					"openssl": {
						{VulnerabilityID: "CVE-2024-0727", FixedVersion: opensslFix},
						{VulnerabilityID: "CVE-2024-2511", Status: vulndb.FixStatusWillNotFix, Severity: vulndb.SeverityLow},
					},
					"zlib": {{VulnerabilityID: "CVE-2023-45853", Status: vulndb.FixStatusWillNotFix}},
				},
			},
			{
				Name:     "alpine 3.19",
				Packages: map[string][]vulndb.Advisory{"openssl": {{VulnerabilityID: "CVE-2024-0727", FixedVersion: "3.1.4-r5"}}},
			},
		},
		Vulnerabilities: []vulndb.Vulnerability{
			{ID: "CVE-2024-0727", Title: "openssl: denial of service", VendorSeverity: map[string]vulndb.Severity{"debian": vulndb.SeverityMedium, "nvd": vulndb.SeverityHigh}},
			{ID: "CVE-2023-45853", Title: "zlib: integer overflow", VendorSeverity: map[string]vulndb.Severity{"nvd": vulndb.SeverityCritical}},
		},
	}
}

// writeScanDB writes a database directory and returns it.
func writeScanDB(t *testing.T, d vulndbtest.Database) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	if err := vulndbtest.Write(dir, d); err != nil {
		t.Fatal(err)
	}
	return dir
}

func debianTestImage(t *testing.T) v1.Image {
	return imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":     "ID=debian\nVERSION_ID=\"12\"\n",
		"etc/debian_version": "12.5\n",
		"var/lib/dpkg/status": "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n\n" +
			"Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n",
	}), imagetest.FilesLayer(t, map[string]string{"srv/app": "app\n"}))
}

func alpineTestImage(t *testing.T) v1.Image {
	return imagetest.PlatformImage(t, "linux", "arm64", imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":       "ID=alpine\nVERSION_ID=3.19.1\n",
		"etc/alpine-release":   "3.19.1\n",
		"lib/apk/db/installed": "P:libssl3\nV:3.1.4-r2\nA:aarch64\no:openssl\n",
	}))
}

const tableGolden = `
HOST/app/deb:1 (debian 12.5)
UNDERLINE
Total: 1 (UNKNOWN: 0, LOW: 0, MEDIUM: 1, HIGH: 0, CRITICAL: 0)

PACKAGE  INSTALLED         FIXED             VULNERABILITY  SEVERITY
libssl3  3.0.11-1~deb12u2  3.0.13-1~deb12u1  CVE-2024-0727  MEDIUM
`

const tableUnfixedGolden = `
HOST/app/deb:1 (debian 12.5)
UNDERLINE
Total: 3 (UNKNOWN: 0, LOW: 1, MEDIUM: 1, HIGH: 0, CRITICAL: 1)

PACKAGE  INSTALLED         FIXED             VULNERABILITY   SEVERITY  STATUS
libssl3  3.0.11-1~deb12u2  3.0.13-1~deb12u1  CVE-2024-0727   MEDIUM    fixed
libssl3  3.0.11-1~deb12u2                    CVE-2024-2511   LOW       will_not_fix
zlib1g   1:1.2.13.dfsg-1                     CVE-2023-45853  CRITICAL  will_not_fix
`

// golden fills the registry host into a golden table; UNDERLINE is the
// heading's underline, whose length depends on the host.
func golden(text, host string) string {
	title := host + "/app/deb:1 (debian 12.5)"
	return strings.ReplaceAll(strings.ReplaceAll(text, "HOST", host), "UNDERLINE", strings.Repeat("=", len(title)))
}

func TestScanTable(t *testing.T) {
	host := registrytest.Start(t)
	registrytest.Push(t, host+"/app/deb:1", debianTestImage(t))
	db := writeScanDB(t, scanDB(time.Now(), "3.0.13-1~deb12u1"))
	data := t.TempDir()

	code, out, errs := run(t, "", "scan", host+"/app/deb:1", "--db", db, "--data-dir", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if want := golden(tableGolden, host); out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if want := "Scanning " + host + "/app/deb:1 (linux/amd64)…\n"; errs != want {
		t.Fatalf("stderr %q, want %q", errs, want)
	}

	code, out, errs = run(t, "", "scan", host+"/app/deb:1", "--db", db, "--data-dir", data, "--include-unfixed", "-o", "table")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if want := golden(tableUnfixedGolden, host); out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}

	// --severity limits the findings and the summary line.
	code, out, _ = run(t, "", "scan", host+"/app/deb:1", "--db", db, "--data-dir", data, "--include-unfixed", "--severity", "critical,HIGH")
	if code != 0 || !strings.Contains(out, "Total: 1 (HIGH: 0, CRITICAL: 1)") || strings.Contains(out, "libssl3") {
		t.Fatalf("exit %d, stdout:\n%s", code, out)
	}
}

func TestScanJSONAndExitCode(t *testing.T) {
	host := registrytest.Start(t)
	ref := host + "/app/deb:1"
	digest := registrytest.Push(t, ref, debianTestImage(t))
	db := writeScanDB(t, scanDB(time.Now(), "3.0.13-1~deb12u1"))
	data := t.TempDir()

	code, out, errs := run(t, "", "scan", ref, "--db", db, "--data-dir", data, "-o", "json", "--exit-code", "3")
	if code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, errs)
	}
	rep, err := scan.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.ArtifactName != ref || rep.ArtifactType != "container_image" || rep.Metadata.RepoTags[0] != ref ||
		rep.Metadata.RepoDigests[0] != host+"/app/deb@"+digest.String() || len(rep.Metadata.DiffIDs) != 2 {
		t.Fatalf("report header %+v", rep)
	}
	if v := rep.Vulnerabilities(); len(v) != 1 || v[0].PkgName != "libssl3" || v[0].FixedVersion != "3.0.13-1~deb12u1" {
		t.Fatalf("findings %+v", v)
	}
	// No findings: exit 0 even with --exit-code.
	code, _, errs = run(t, "", "scan", ref, "--db", db, "--data-dir", data, "--severity", "CRITICAL", "--exit-code", "3")
	if code != 0 {
		t.Fatalf("exit %d without findings: %s", code, errs)
	}
	// Findings without --exit-code: exit 0.
	if code, _, errs = run(t, "", "scan", ref, "--db", db, "--data-dir", data); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestScanMultiPlatform(t *testing.T) {
	host := registrytest.Start(t)
	ref := host + "/app/multi:1"
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: debianTestImage(t), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: alpineTestImage(t), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	r, _ := name.ParseReference(ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	db := writeScanDB(t, scanDB(time.Now(), "3.0.13-1~deb12u1"))
	data := t.TempDir()

	code, out, errs := run(t, "", "scan", ref, "--db", db, "--data-dir", data, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var reports []scan.Report
	decodeJSON(t, out, &reports)
	if len(reports) != 2 || reports[0].Metadata.OS.Family != "debian" || reports[1].Metadata.OS.Family != "alpine" ||
		reports[1].Results[0].Vulnerabilities[0].FixedVersion != "3.1.4-r5" {
		t.Fatalf("reports: %s", out)
	}
	if !strings.Contains(errs, "(linux/amd64)…") || !strings.Contains(errs, "(linux/arm64)…") {
		t.Fatalf("stderr %s", errs)
	}

	code, out, errs = run(t, "", "scan", ref, "--db", db, "--data-dir", data, "-o", "json", "--platform", "linux/arm64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rep, err := scan.ReadReport(strings.NewReader(out))
	if err != nil || rep.Metadata.OS.Family != "alpine" {
		t.Fatalf("%v %s", err, out)
	}

	code, out, _ = run(t, "", "scan", ref, "--db", db, "--data-dir", data)
	if code != 0 || !strings.Contains(out, "(debian 12.5) [linux/amd64]") || !strings.Contains(out, "(alpine 3.19.1) [linux/arm64]") {
		t.Fatalf("exit %d, table:\n%s", code, out)
	}

	code, _, errs = run(t, "", "scan", ref, "--db", db, "--data-dir", data, "--platform", "linux/s390x")
	if code != ExitUsage || !strings.Contains(errs, "available: linux/amd64, linux/arm64") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestScanUnsupportedImages(t *testing.T) {
	host := registrytest.Start(t)
	registrytest.Push(t, host+"/win/app:1", imagetest.WindowsImage(t, imagetest.FilesLayer(t, map[string]string{"Files/Windows/System32/config/SOFTWARE": "x"})))
	registrytest.Push(t, host+"/static/app:1", imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{"app": "binary"})))
	db := writeScanDB(t, scanDB(time.Now(), "3.0.13-1~deb12u1"))
	for _, ref := range []string{host + "/win/app:1", host + "/static/app:1"} {
		code, out, errs := run(t, "", "scan", ref, "--db", db, "--data-dir", t.TempDir(), "--exit-code", "4")
		if code != 0 || !strings.Contains(out, "Not scanned: ") || !strings.Contains(errs, "Not scanned: "+ref) {
			t.Fatalf("%s: exit %d\n%s\n%s", ref, code, out, errs)
		}
		code, out, _ = run(t, "", "scan", ref, "--db", db, "--data-dir", t.TempDir(), "-o", "json")
		rep, err := scan.ReadReport(strings.NewReader(out))
		if code != 0 || err != nil || rep.Results != nil || rep.Metadata.OS != nil {
			t.Fatalf("%s: exit %d %v\n%s", ref, code, err, out)
		}
	}
}

// blobCounter counts blob GETs of a registry by digest.
type blobCounter struct {
	mu   sync.Mutex
	gets map[string]int
}

func (c *blobCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, digest, ok := strings.Cut(r.URL.Path, "/blobs/"); ok && r.Method == http.MethodGet {
			c.mu.Lock()
			c.gets[digest]++
			c.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (c *blobCounter) count(digests ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, d := range digests {
		n += c.gets[d]
	}
	return n
}

// pushDB packs a database and pushes it as Trivy's artifact.
func pushDB(t *testing.T, ref string, d vulndbtest.Database) string {
	t.Helper()
	layer, err := vulndbtest.Pack(writeScanDB(t, d))
	if err != nil {
		t.Fatal(err)
	}
	h, err := vulndbtest.PushArtifact(context.Background(), ref, layer)
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// TestScanUpdatesDBAndCachesInventory: the first scan downloads the
// database; after a newer database is forced in, a rescan reads no layer
// blob but reports the new fixed version.
func TestScanUpdatesDBAndCachesInventory(t *testing.T) {
	counter := &blobCounter{gets: map[string]int{}}
	host := registrytest.StartWith(t, counter.wrap)
	ref := host + "/app/deb:1"
	img := debianTestImage(t)
	registrytest.Push(t, ref, img)
	var layerDigests []string
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		layerDigests = append(layerDigests, d.String())
	}
	dbRepo := host + "/mirror/trivy-db"
	pushDB(t, dbRepo+":2", scanDB(time.Now().Add(-time.Hour), "3.0.13-1~deb12u1"))
	data := t.TempDir()

	code, out, errs := run(t, "", "scan", ref, "--data-dir", data, "--db-repository", dbRepo, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "Downloaded the vulnerability database from "+dbRepo) {
		t.Fatalf("stderr: %s", errs)
	}
	if n := counter.count(layerDigests...); n == 0 {
		t.Fatal("first scan read no layer")
	}
	rep, _ := scan.ReadReport(strings.NewReader(out))
	if rep.Vulnerabilities()[0].FixedVersion != "3.0.13-1~deb12u1" {
		t.Fatalf("first scan: %s", out)
	}

	// The database is current: a second scan does not download it again.
	code, _, errs = run(t, "", "scan", ref, "--data-dir", data, "--db-repository", dbRepo, "-o", "json")
	if code != 0 || strings.Contains(errs, "Downloaded") {
		t.Fatalf("exit %d: %s", code, errs)
	}

	pushDB(t, dbRepo+":2", scanDB(time.Now(), "3.0.14-1~deb12u1"))
	if code, _, errs := run(t, "", "db", "update", "--data-dir", data, "--db-repository", dbRepo, "--force"); code != 0 {
		t.Fatalf("db update: exit %d: %s", code, errs)
	}
	before := counter.count(layerDigests...)
	code, out, errs = run(t, "", "scan", ref, "--data-dir", data, "--skip-db-update", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := counter.count(layerDigests...) - before; n != 0 {
		t.Fatalf("rescan read %d layer blobs", n)
	}
	rep, _ = scan.ReadReport(strings.NewReader(out))
	if rep.Vulnerabilities()[0].FixedVersion != "3.0.14-1~deb12u1" {
		t.Fatalf("rescan used the old database: %s", out)
	}
}

func TestScanBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"scan", "x/y:1", "-f", "xml"},
		{"scan", "x/y:1", "-f", "sarif", "-o", "json"},
		{"scan", "x/y:1", "--ignore-unfixed", "--include-unfixed"},
		{"scan", "x/y:1", "--ignorefile", "no-such-ignore-file"},
		{"scan", "x/y:1", "--severity", "SEVERE"},
		{"scan", "x/y:1", "--platform", "amd64"},
		{"scan", "x/y:1", "--exit-code", "-1"},
		{"scan", "x/y:1", "--db", "d", "--db-repository", "r"},
		{"scan"},
	} {
		if code, _, errs := run(t, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d: %s", args, code, errs)
		}
	}
	// No database: a clear error, exit 1.
	code, _, errs := run(t, "", "scan", "x/y:1", "--data-dir", t.TempDir(), "--skip-db-update")
	if code != ExitError || !strings.Contains(errs, "patchloop db update") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// A package version the ordering cannot parse is a warning naming the
// package and version, on stderr and in the JSON report, not a silent drop.
func TestScanWarnsOfUnparsableVersion(t *testing.T) {
	host := registrytest.Start(t)
	ref := host + "/app/bad:1"
	// apk's database takes any version; its ordering cannot parse this one.
	registrytest.Push(t, ref, imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":       "ID=alpine\nVERSION_ID=3.19.1\n",
		"etc/alpine-release":   "3.19.1\n",
		"lib/apk/db/installed": "P:libssl3\nV:1.0~~~bad!\nA:x86_64\no:openssl\n\nP:libcrypto3\nV:3.1.4-r2\nA:x86_64\no:openssl\n",
	})))
	db := writeScanDB(t, scanDB(time.Now(), "3.0.13-1~deb12u1"))
	want := `package libssl3: installed version "1.0~~~bad!" cannot be parsed`

	code, _, errs := run(t, "", "scan", ref, "--db", db, "--data-dir", t.TempDir())
	if code != 0 || !strings.Contains(errs, "Warning: "+ref+" (linux/amd64): "+want) || !strings.Contains(errs, "its vulnerabilities were not checked") {
		t.Fatalf("exit %d, stderr:\n%s\nwant a warning %q", code, errs, want)
	}

	code, out, errs := run(t, "", "scan", ref, "--db", db, "--data-dir", t.TempDir(), "-o", "json")
	if code != 0 || !strings.Contains(errs, want) {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	var rep struct {
		Results  []json.RawMessage
		Warnings []scan.Warning
	}
	decodeJSON(t, out, &rep)
	if len(rep.Warnings) != 1 || rep.Warnings[0].PkgName != "libssl3" || rep.Warnings[0].InstalledVersion != "1.0~~~bad!" || !strings.Contains(rep.Warnings[0].Message, want) {
		t.Fatalf("warnings = %+v\n%s", rep.Warnings, out)
	}
	// The other package of the same source is still checked.
	if len(rep.Results) != 1 || !strings.Contains(out, `"PkgName": "libcrypto3"`) || strings.Contains(string(rep.Results[0]), "~~~bad!") {
		t.Fatalf("results = %s", out)
	}
	// The report still reads as Trivy's: Warnings is the last field.
	if i, j := strings.Index(out, `"Results"`), strings.Index(out, `"Warnings"`); i < 0 || j < i {
		t.Errorf("Warnings is not after Results:\n%s", out)
	}
}
