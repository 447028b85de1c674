package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/scan"
)

// patchPlan runs a dry-run patch and returns its JSON result.
func patchPlan(t *testing.T, dir string, args ...string) patch.Result {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	code, out, errOut := run(t, "", append([]string{"patch", "--dry-run", "-o", "json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	var res patch.Result
	decodeJSON(t, out, &res)
	return res
}

// A .trivyignore entry in force keeps patch from fixing its finding; an
// expired one does not.
func TestPatchCommandHonoursIgnoreFile(t *testing.T) {
	ref, db, repo := patchFixture(t)
	data := t.TempDir()
	common := []string{ref, "--db", db, "--data-dir", data, "--apt-mirror", repo.URL}

	live := t.TempDir()
	if err := os.WriteFile(filepath.Join(live, ".trivyignore"), []byte("CVE-2024-0001 exp:2999-12-31\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := patchPlan(t, live, common...); res.Changed() {
		t.Fatalf("patched an ignored vulnerability: %+v", res.Updates)
	}

	expired := t.TempDir()
	if err := os.WriteFile(filepath.Join(expired, ".trivyignore"), []byte("# no longer accepted\nCVE-2024-0001 exp:2001-01-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := patchPlan(t, expired, common...)
	if len(res.Updates) != 1 || res.Updates[0].To != "1.0-2" || strings.Join(res.Fixed, ",") != "CVE-2024-0001" {
		t.Fatalf("plan with an expired entry: %+v", res)
	}

	// With --report, the ignore file applies to the report's findings.
	code, report, errOut := run(t, "", "scan", ref, "--db", db, "--data-dir", data, "-o", "json", "--ignorefile", "")
	if code != ExitOK {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	reportPath := writeFile(t, "report.json", report)
	ignore := writeFile(t, "ignore", "CVE-2024-0001\n")
	if res := patchPlan(t, "", ref, "-r", reportPath, "--data-dir", data, "--apt-mirror", repo.URL, "--ignorefile", ignore); res.Changed() {
		t.Fatalf("patched an ignored vulnerability from a report: %+v", res.Updates)
	}
}

// Copa's spellings: -i IMAGE, -r REPORT (a file or a directory of one
// report per platform), -t TAG, --tag-suffix.
func TestPatchCommandCopaFlags(t *testing.T) {
	ref, db, repo := patchFixture(t)
	data := t.TempDir()
	code, report, errOut := run(t, "", "scan", ref, "--db", db, "--data-dir", data, "-o", "json")
	if code != ExitOK {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	repoName := strings.TrimSuffix(ref, ":1.0")

	res := patchPlan(t, "", "-i", ref, "-r", writeFile(t, "report.json", report), "-t", "1.0-fixed", "--apt-mirror", repo.URL, "--data-dir", data)
	if res.Reference != repoName+":1.0-fixed" || len(res.Updates) != 1 {
		t.Fatalf("-i/-r/-t: %+v", res)
	}
	res = patchPlan(t, "", "-i", ref, "-r", writeFile(t, "report.json", report), "--tag-suffix", "copa", "--apt-mirror", repo.URL, "--data-dir", data)
	if res.Reference != repoName+":1.0-copa" {
		t.Fatalf("--tag-suffix: %+v", res)
	}

	// A report directory: the image's platform (linux/amd64) is patched
	// from its report; a report of another platform is not used for it.
	rep, err := scan.ReadReport(strings.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Metadata.ImageConfig.Architecture != "amd64" {
		t.Fatalf("fixture platform %s", rep.Metadata.ImageConfig.Architecture)
	}
	arm := *rep
	arm.Metadata.ImageConfig.Architecture = "arm64"
	arm.Results = nil
	dir := t.TempDir()
	writeReport := func(name string, r *scan.Report) {
		t.Helper()
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeReport("linux-arm64.json", &arm)
	res = patchPlan(t, "", "-i", ref, "-r", dir, "--apt-mirror", repo.URL, "--data-dir", data)
	if res.Changed() || len(res.Platforms) != 1 || res.Platforms[0].Skipped != "no report for this platform" {
		t.Fatalf("directory without the image's platform: %+v", res)
	}
	writeReport("linux-amd64.json", rep)
	res = patchPlan(t, "", "-i", ref, "-r", dir, "--apt-mirror", repo.URL, "--data-dir", data)
	if len(res.Updates) != 1 || res.Updates[0].To != "1.0-2" {
		t.Fatalf("directory with the image's platform: %+v", res)
	}

	// Two reports of one platform, an empty directory, and flags that
	// contradict each other are usage errors.
	writeReport("again.json", rep)
	for _, args := range [][]string{
		{"patch", "-i", ref, "-r", dir, "--dry-run"},
		{"patch", "-i", ref, "-r", t.TempDir(), "--dry-run"},
		{"patch", ref, "-i", ref, "--dry-run"},
		{"patch", "--dry-run"},
		{"patch", "-i", ref, "-t", "x", "--tag-suffix", "y"},
		{"patch", "-i", repoName + "@sha256:" + strings.Repeat("0", 64), "--tag-suffix", "y"},
	} {
		if code, _, errOut := run(t, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, errOut)
		}
	}
}
