package cli

import (
	"io"
	"strings"
	"testing"
)

// onTerminal makes stderr count as a terminal and shows every transfer,
// for one (non-parallel) test.
func onTerminal(t *testing.T) {
	oldTerm, oldMin := stderrIsTerminal, progressMin
	stderrIsTerminal = func(io.Writer) bool { return true }
	progressMin = 1
	t.Cleanup(func() { stderrIsTerminal, progressMin = oldTerm, oldMin })
}

// TestPatchProgress: on a terminal, patch draws progress lines for layer
// reads, package downloads and pushes; -q draws none, and neither does a
// stderr that is not a terminal (every other test).
func TestPatchProgress(t *testing.T) {
	ref, db, repo := patchFixture(t)
	code, _, errs := run(t, "", "patch", ref, "--db", db, "--data-dir", t.TempDir(), "--apt-mirror", repo.URL, "--dry-run")
	if code != ExitOK || strings.Contains(errs, "\r") {
		t.Fatalf("not a terminal: exit %d, stderr %q", code, errs)
	}

	onTerminal(t)
	code, _, errs = run(t, "", "patch", ref, "--db", db, "--data-dir", t.TempDir(), "--apt-mirror", repo.URL)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"\rdownloading sha256:", "\rdownloading hello_1.0-2_amd64.deb ", "\rpushing "} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%q", want, errs)
		}
	}
	code, _, errs = run(t, "", "patch", "-q", ref, "--db", db, "--data-dir", t.TempDir(), "--apt-mirror", repo.URL, "--tag", "1.0-q")
	if code != ExitOK || strings.Contains(errs, "\r") {
		t.Errorf("-q: exit %d, stderr %q", code, errs)
	}
}

// TestPatchVerbose: -v tells the story a run log holds (packages chosen
// and why, the new layer, the push); without it stderr stays quiet.
func TestPatchVerbose(t *testing.T) {
	ref, db, repo := patchFixture(t)
	story := []string{"apt patcher: source verified by keyring", `msg="apt patcher: chose package" package=hello version=1.0-2`,
		`reason="fixes CVE-2024-0001"`, `msg="new layer"`, `msg="pushed patched image"`}
	code, _, errs := run(t, "", "patch", ref, "--db", db, "--data-dir", t.TempDir(), "--apt-mirror", repo.URL)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range story {
		if strings.Contains(errs, s) {
			t.Errorf("without -v stderr has %q:\n%s", s, errs)
		}
	}
	code, _, errs = run(t, "", "patch", "-v", ref, "--db", db, "--data-dir", t.TempDir(), "--apt-mirror", repo.URL, "--tag", "1.0-v")
	if code != ExitOK {
		t.Fatalf("-v: exit %d: %s", code, errs)
	}
	for _, s := range story {
		if !strings.Contains(errs, s) {
			t.Errorf("-v: stderr lacks %q:\n%s", s, errs)
		}
	}
}
