package workflow

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// TestImagesOfLatestCycle: workflow list shows the images of the latest
// cycle whose trigger succeeded. A config shrunk between cycles drops the
// images it no longer selects, their old failures with them; a failed
// trigger (the image limit) keeps the last listed cycle and is itself a
// failed trigger run.
func TestImagesOfLatestCycle(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-2"), "clean", "1.0")
	f.push(t, imagetest.Image(t, imagetest.TruncatedLayer(t, imagetest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"))), "broken", "1.0")
	e := f.start(t, func(o *Options) { o.MaxImages = 2 })
	ctx := context.Background()
	f.create(t, e, configOf("incremental", "clean", "broken"), false)

	images := func(status string) []string {
		var out []string
		for img, st := range imageStatuses(t, e, f.host, status) {
			out = append(out, img+" "+string(st.Scan.Status)+" cycle "+itoa(int(st.Scan.Cycle)))
		}
		slices.Sort(out)
		return out
	}
	f.runCycle(t, e, day)
	if diff := cmp.Diff([]string{"broken:1.0 Failed cycle 1", "clean:1.0 Succeeded cycle 1"}, images("")); diff != "" {
		t.Fatalf("cycle 1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"broken:1.0 Failed cycle 1"}, images("failed")); diff != "" {
		t.Fatalf("cycle 1 failed (-want +got):\n%s", diff)
	}

	// The config shrinks: broken leaves the list and its failure with it.
	if _, err := e.Update(ctx, UpdateRequest{Registry: f.host, Type: TypeContinuousPatchV1, Config: configOf("incremental", "clean")}); err != nil {
		t.Fatal(err)
	}
	f.runCycle(t, e, day)
	if diff := cmp.Diff([]string{"clean:1.0 Succeeded cycle 2"}, images("")); diff != "" {
		t.Fatalf("cycle 2 (-want +got):\n%s", diff)
	}
	if got := images("failed"); len(got) != 0 {
		t.Fatalf("cycle 2 failed images = %q, want none", got)
	}

	// The registry grows past the limit: the trigger fails; the list keeps
	// cycle 2's images and the failed trigger is the latest trigger run.
	f.push(t, f.debian(t, "1.0-2"), "clean", "2.0", "3.0")
	f.runCycle(t, e, day)
	if diff := cmp.Diff([]string{"clean:1.0 Succeeded cycle 2"}, images("")); diff != "" {
		t.Fatalf("cycle 3 (-want +got):\n%s", diff)
	}
	tr, err := e.Runs(ctx, RunFilter{Registry: f.host, Task: TaskTrigger, Top: 1})
	if err != nil || len(tr) != 1 || tr[0].Cycle != 3 || tr[0].Status != StatusFailed || !strings.Contains(tr[0].Error, "3 images selected, limit 2") {
		t.Fatalf("latest trigger = %+v, %v", tr, err)
	}
}

// TestPatchOfPatchIsNoOriginal: with "*", a cycle scans g and e only:
// g-1 stays g's patch though g-1-1 exists, and e-patched stays e's though
// e-patched-1 exists.
func TestPatchOfPatchIsNoOriginal(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-2"), "app", "g", "g-1", "g-1-1", "e", "e-patched", "e-patched-1")
	e := f.start(t)
	f.create(t, e, configOf("incremental", "app"), false)
	f.runCycle(t, e, day)
	var got []string
	for _, r := range runsOf(t, e, f.host, TaskScan) {
		got = append(got, r.Image+" scanned "+r.Result.ScannedImage)
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"app:e scanned app:e", "app:g scanned app:g-1"}, got); diff != "" {
		t.Fatalf("scans (-want +got):\n%s", diff)
	}
}
