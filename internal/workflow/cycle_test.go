package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchloop/patchloop/internal/tags"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// TestCycle creates a workflow, moves the clock to its first cycle and
// checks every outcome an image can have, then a second cycle that scans
// the patched image.
func TestCycle(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	f.push(t, f.debian(t, "1.0-2"), "clean", "1.0")
	f.push(t, imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{"hello.txt": "hi"})), "noos", "1.0")
	f.push(t, imagetest.Image(t, imagetest.TruncatedLayer(t, imagetest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"))), "broken", "1.0")
	// A lineage with patches -1 … -999: the next patch has no tag left.
	all := []string{"1.0"}
	for i := 1; i <= tags.MaxPatches; i++ {
		all = append(all, "1.0-"+itoa(i))
	}
	f.push(t, f.debian(t, "1.0-1"), "full", all...)
	f.push(t, jessie(t), "old", "8")

	e := f.start(t)
	ctx := context.Background()
	w := f.create(t, e, configOf("incremental", "app", "clean", "noos", "broken", "full", "old"), false)
	if !w.NextRunAt.Equal(t0.Add(day)) || w.ScheduleText != "1d" || w.TagConvention != string(tags.Incremental) {
		t.Fatalf("workflow = %+v", w)
	}
	if got := f.tags(t, PolicyRepository); len(got) != 1 || got[0] != ConfigTag {
		t.Fatalf("policy tags = %v", got)
	}
	if d := f.digest(t, PolicyRepository, ConfigTag); d != w.ConfigDigest {
		t.Fatalf("policy digest %s, workflow says %s", d, w.ConfigDigest)
	}

	// Nothing runs before the first cycle is due.
	if err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if runs := runsOf(t, e, f.host, ""); len(runs) != 0 {
		t.Fatalf("runs before the first cycle: %+v", runs)
	}

	f.runCycle(t, e, day)
	triggers := runsOf(t, e, f.host, TaskTrigger)
	if len(triggers) != 1 || triggers[0].Status != StatusSucceeded || triggers[0].Cycle != 1 || triggers[0].Result.Images != 6 {
		t.Fatalf("triggers = %+v", triggers)
	}
	st := imageStatuses(t, e, f.host, "")
	if len(st) != 6 {
		t.Fatalf("images = %+v", st)
	}
	app := st["app:1.0"]
	if app.Scan.Status != StatusSucceeded || app.Scan.Result.Fixable != 1 || app.Patch == nil ||
		app.Patch.Status != StatusSucceeded || app.Patch.Result.PatchedImage != "app:1.0-1" || app.LastPatchedImage != "app:1.0-1" {
		t.Errorf("app = %s", show(app))
	}
	// Counts by severity: found by the scan and the patch, left after it;
	// none is an empty count, not a missing one.
	if app.Patch != nil {
		for name, c := range map[string][2]map[string]int{
			"app scan":         {app.Scan.Result.Severities, {"HIGH": 1}},
			"app patch before": {app.Patch.Result.Severities, {"HIGH": 1}},
			"app patch after":  {app.Patch.Result.SeveritiesAfter, {}},
			"clean scan":       {st["clean:1.0"].Scan.Result.Severities, {}},
		} {
			if diff := cmp.Diff(c[1], c[0]); diff != "" {
				t.Errorf("%s severities (-want +got):\n%s", name, diff)
			}
		}
	}
	if c := st["clean:1.0"]; c.Scan.Status != StatusSucceeded || c.Patch != nil ||
		c.SkippedReason != "no vulnerability found in the image clean:1.0" || c.LastPatchedImage != "" {
		t.Errorf("clean = %s", show(c))
	}
	if c := st["old:8"]; c.Scan.Status != StatusSucceeded || c.Patch != nil || c.SkippedReason != "EOSL is true for image old:8" {
		t.Errorf("old = %s", show(c))
	}
	if c := st["noos:1.0"]; c.Scan.Status != StatusSkipped || !strings.HasPrefix(c.SkippedReason, reasonNoScanOS) {
		t.Errorf("noos = %s", show(c))
	}
	if c := st["broken:1.0"]; c.Scan.Status != StatusFailed || c.Scan.Error == "" || c.Patch != nil {
		t.Errorf("broken = %s", show(c))
	}
	full := st["full:1.0"]
	if full.Scan.Result.ScannedImage != "full:1.0-999" || full.Patch == nil || full.Patch.Status != StatusFailed ||
		!strings.Contains(full.Patch.Error, tags.ErrTooManyPatches.Error()) || full.LastPatchedImage != "full:1.0-999" {
		t.Errorf("full = %s", show(full))
	}
	if got := f.tags(t, "app"); strings.Join(got, ",") != "1.0,1.0-1" {
		t.Errorf("app tags = %v", got)
	}

	for filter, want := range map[string]string{
		"failed":     "broken:1.0,full:1.0",
		"Successful": "app:1.0,clean:1.0,noos:1.0,old:8",
		"running":    "",
		"skipped":    "clean:1.0,noos:1.0,old:8",
	} {
		list, err := e.Images(ctx, f.host, filter)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range list {
			names = append(names, s.Image)
		}
		if got := strings.Join(names, ","); got != want {
			t.Errorf("Images(%q) = %s, want %s", filter, got, want)
		}
	}
	if _, err := e.Images(ctx, f.host, "sideways"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("bad filter: %v", err)
	}

	failed, err := e.Runs(ctx, RunFilter{Registry: f.host, Task: TaskPatch, Status: "failed", Top: 5})
	if err != nil || len(failed) != 1 || failed[0].Image != "full:1.0" {
		t.Fatalf("failed patch runs = %+v, %v", failed, err)
	}
	log, err := e.RunLog(ctx, app.Patch.ID)
	if err != nil || !strings.Contains(log, "pushed patched image") {
		t.Errorf("patch log = %q, %v", log, err)
	}
	if _, err := e.RunLog(ctx, "nosuchid"); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("RunLog of a missing run: %v", err)
	}

	// Cycle 2 scans the lineage's newest image, the patch: nothing to do.
	// The skip reason names the original, as the reference's does.
	f.runCycle(t, e, day)
	st = imageStatuses(t, e, f.host, "")
	app = st["app:1.0"]
	if app.Scan.Cycle != 2 || app.Scan.Result.ScannedImage != "app:1.0-1" || app.Patch != nil ||
		app.SkippedReason != "no vulnerability found in the image app:1.0" || app.LastPatchedImage != "app:1.0-1" {
		t.Errorf("app in cycle 2 = %s", show(app))
	}
	if got := f.tags(t, "app"); strings.Join(got, ",") != "1.0,1.0-1" {
		t.Errorf("app tags after cycle 2 = %v", got)
	}
	if n := len(runsOf(t, e, f.host, TaskScan)); n != 12 {
		t.Errorf("%d scan runs over two cycles, want 12", n)
	}
}
