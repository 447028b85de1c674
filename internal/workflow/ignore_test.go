package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Options.IgnoreFile (serve --ignorefile) is read anew by every scan: an
// entry in force keeps its finding from being fixable, so nothing is
// patched; once the entry has expired the next cycle patches the image.
func TestScanTaskIgnoreFile(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	ignore := filepath.Join(t.TempDir(), ".trivyignore")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(ignore, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# accepted for now\n" + advisory1.ID + " exp:2999-01-01\n")
	e := f.start(t, func(o *Options) { o.IgnoreFile = ignore })
	f.create(t, e, configOf("incremental", "app"), false)

	f.runCycle(t, e, day)
	scans := runsOf(t, e, f.host, TaskScan)
	if len(scans) != 1 || scans[0].Status != StatusSucceeded || scans[0].Result.Fixable != 0 ||
		!strings.HasPrefix(scans[0].Result.SkippedReason, reasonNoVulns) {
		t.Fatalf("scan with the entry in force: %+v", scans)
	}
	if patches := runsOf(t, e, f.host, TaskPatch); len(patches) != 0 {
		t.Fatalf("an ignored vulnerability was patched: %+v", patches)
	}

	write(advisory1.ID + " exp:2001-01-01\n")
	f.runCycle(t, e, day)
	scans = runsOf(t, e, f.host, TaskScan)
	if len(scans) != 2 || scans[1].Result.Fixable != 1 {
		t.Fatalf("scan with the entry expired: %+v", scans[1])
	}
	patches := runsOf(t, e, f.host, TaskPatch)
	if len(patches) != 1 || patches[0].Status != StatusSucceeded {
		t.Fatalf("patches = %+v", patches)
	}
	if got := f.tags(t, "app"); strings.Join(got, ",") != "1.0,1.0-1" {
		t.Fatalf("tags = %v", got)
	}

	// A malformed file fails the scan, naming the file and line.
	write(advisory1.ID + " exp:someday\n")
	f.runCycle(t, e, day)
	scans = runsOf(t, e, f.host, TaskScan)
	last := scans[len(scans)-1]
	if last.Status != StatusFailed || !strings.Contains(last.Error, ignore+" line 1") {
		t.Fatalf("scan with a malformed ignore file: %+v", last)
	}
}
