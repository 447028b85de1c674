package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// ignoreFile has a live entry for the fixable openssl finding and an
// expired one for the unfixed zlib finding.
const ignoreFileText = `# accepted until the next release
CVE-2024-0727 exp:2999-01-01
CVE-2023-45853 exp:2000-01-01
`

// A .trivyignore in the working directory (and --ignorefile) sets the
// live entry's finding aside and leaves the expired entry's: the table
// counts it, the JSON report lists it as Trivy does, --exit-code ignores it.
func TestScanIgnoreFile(t *testing.T) {
	host := registrytest.Start(t)
	ref := host + "/app/deb:1"
	registrytest.Push(t, ref, debianTestImage(t))
	db := writeScanDB(t, scanDB(time.Now(), "3.0.13-1~deb12u1"))
	data := t.TempDir()
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, ".trivyignore"), []byte(ignoreFileText), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)

	code, out, errs := run(t, "", "scan", ref, "--db", db, "--data-dir", data, "--include-unfixed", "--exit-code", "4")
	if code != 4 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Total: 2 (UNKNOWN: 0, LOW: 1, MEDIUM: 0, HIGH: 0, CRITICAL: 1)", "Ignored: 1 (by .trivyignore)", "CVE-2023-45853"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "CVE-2024-0727") {
		t.Errorf("the ignored finding is in the table:\n%s", out)
	}

	// Fixed findings only: the one finding is ignored, so --exit-code does not fire.
	code, out, errs = run(t, "", "scan", ref, "--db", db, "--data-dir", data, "-o", "json", "--exit-code", "4")
	if code != 0 {
		t.Fatalf("exit %d with every finding ignored: %s", code, errs)
	}
	rep, err := scan.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Vulnerabilities()) != 0 || rep.Ignored() != 1 {
		t.Fatalf("report: %s", out)
	}
	m := rep.Results[0].ModifiedFindings[0]
	if m.Type != "vulnerability" || m.Status != "ignored" || m.Source != ".trivyignore" || m.Finding.VulnerabilityID != "CVE-2024-0727" {
		t.Fatalf("modified finding %+v", m)
	}

	// --ignorefile names another file; the default one is then not read.
	other := writeFile(t, "ignore.txt", "CVE-2023-45853\n")
	code, out, errs = run(t, "", "scan", ref, "--db", db, "--data-dir", data, "--include-unfixed", "--ignorefile", other)
	if code != 0 || !strings.Contains(out, "CVE-2024-0727") || strings.Contains(out, "CVE-2023-45853") || !strings.Contains(out, "Ignored: 1 (by "+other+")") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
}

// -f picks the format, -o FILE writes it to a file, and -o json / -o
// table still name a format.
func TestScanFormatsAndOutputFile(t *testing.T) {
	host := registrytest.Start(t)
	ref := host + "/app/deb:1"
	registrytest.Push(t, ref, debianTestImage(t))
	db := writeScanDB(t, scanDB(time.Now(), "3.0.13-1~deb12u1"))
	data := t.TempDir()
	dir := t.TempDir()
	scanTo := func(args ...string) string {
		t.Helper()
		code, out, errs := run(t, "", append([]string{"scan", ref, "--db", db, "--data-dir", data, "-q"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if errs != "" {
			t.Fatalf("%v: -q printed progress: %s", args, errs)
		}
		return out
	}

	// -o report.json is a file; the format is -f's.
	path := filepath.Join(dir, "report.json")
	if out := scanTo("-f", "json", "-o", path); out != "" {
		t.Fatalf("stdout with --output: %s", out)
	}
	data1, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := scan.ReadReport(strings.NewReader(string(data1))); err != nil || len(rep.Vulnerabilities()) != 1 {
		t.Fatalf("report file: %v\n%s", err, data1)
	}
	// -o json is still the format, on stdout.
	if _, err := scan.ReadReport(strings.NewReader(scanTo("-o", "json"))); err != nil {
		t.Fatal(err)
	}
	if out := scanTo("-o", "table", "--timeout", "5m", "--ignore-unfixed"); !strings.Contains(out, "Total: 1") {
		t.Fatalf("table: %s", out)
	}
	if out := scanTo("-f", "sarif"); !strings.Contains(out, `"version": "2.1.0"`) || !strings.Contains(out, `"ruleId": "CVE-2024-0727"`) {
		t.Fatalf("sarif: %s", out)
	}

	cdxPath := filepath.Join(dir, "bom.cdx.json")
	scanTo("--format", "cyclonedx", "--output", cdxPath)
	fh, err := os.Open(cdxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(fh, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	var purls []string
	for _, c := range *bom.Components {
		if c.PackageURL != "" {
			purls = append(purls, c.PackageURL)
		}
	}
	want := []string{
		"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5",
		"pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1",
	}
	if strings.Join(purls, " ") != strings.Join(want, " ") {
		t.Fatalf("CycloneDX purls %v, want %v", purls, want)
	}

	doc, err := spdxjson.Read(strings.NewReader(scanTo("-f", "spdx-json")))
	if err != nil {
		t.Fatal(err)
	}
	purls = purls[:0]
	for _, p := range doc.Packages {
		for _, r := range p.PackageExternalReferences {
			purls = append(purls, r.Locator)
		}
	}
	if strings.Join(purls, " ") != strings.Join(want, " ") {
		t.Fatalf("SPDX purls %v, want %v", purls, want)
	}
	// --timeout bounds the command and says so.
	code, _, errs := run(t, "", "scan", ref, "--db", db, "--data-dir", data, "--timeout", "1ns")
	if code != ExitError || !strings.Contains(errs, "--timeout 1ns reached") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// No temporary file is left beside the outputs.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("files in the output directory: %v", entries)
	}
}
