package workflow

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// TestCancelRunsMidPatch cancels a cycle while its patch downloads
// packages: the patch stops, is marked Canceled and pushes no tag; the
// next cycle runs as usual.
func TestCancelRunsMidPatch(t *testing.T) {
	f := newFixture(t)
	g := newGate(t, f)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	e := f.start(t)
	ctx := context.Background()
	if n, err := e.CancelRuns(ctx, f.host, TypeContinuousPatchV1); err == nil || n != 0 {
		t.Fatalf("cancel without a workflow = %d, %v", n, err)
	}
	f.create(t, e, configOf("incremental", "app"), false)
	f.clock.Advance(day)
	if err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t)
	n, err := e.CancelRuns(ctx, f.host, TypeContinuousPatchV1)
	if err != nil || n != 1 {
		t.Fatalf("CancelRuns = %d, %v; want 1", n, err)
	}
	waitIdle(t, e, f.host)
	waitFor(t, "the patch job to stop", func() bool { return jobsRunning(t, e) == 0 })
	patches := runsOf(t, e, f.host, TaskPatch)
	if len(patches) != 1 || patches[0].Status != StatusCanceled {
		t.Fatalf("patches = %+v", patches)
	}
	if log, _ := e.RunLog(ctx, patches[0].ID); !strings.Contains(log, "run canceled") {
		t.Errorf("patch log:\n%s", log)
	}
	if got := strings.Join(f.tags(t, "app"), ","); got != "1.0" {
		t.Fatalf("app tags after cancel = %s", got)
	}
	if st := imageStatuses(t, e, f.host, "canceled"); len(st) != 1 {
		t.Errorf("Images(canceled) = %v", st)
	}

	g.release()
	f.runCycle(t, e, day)
	st := imageStatuses(t, e, f.host, "")["app:1.0"]
	if st.Scan.Cycle != 2 || st.Patch == nil || st.Patch.Status != StatusSucceeded || st.LastPatchedImage != "app:1.0-1" {
		t.Fatalf("next cycle: %s", show(st))
	}
	if n, err := e.CancelRuns(ctx, f.host, TypeContinuousPatchV1); err != nil || n != 0 {
		t.Errorf("cancel with nothing running = %d, %v", n, err)
	}
}

// jobsRunning counts the River jobs running on a SQLite engine.
func jobsRunning(t *testing.T, e *Engine) int {
	t.Helper()
	q, ok := e.queue.(*riverQueue[*sql.Tx])
	if !ok {
		t.Fatalf("queue is a %T", e.queue)
	}
	res, err := q.client.JobList(context.Background(), river.NewJobListParams().States(rivertype.JobStateRunning))
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Jobs)
}
