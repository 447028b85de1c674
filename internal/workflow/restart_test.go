package workflow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/store"
)

// TestRestartMidCycle stops the engine while a patch is downloading
// packages and starts another on the same SQLite file: the patch resumes,
// nothing finished runs again, nothing is lost.
func TestRestartMidCycle(t *testing.T) {
	f := newFixture(t)
	g := newGate(t, f)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	f.push(t, f.debian(t, "1.0-2"), "clean", "1.0", "2.0", "3.0")
	e := f.start(t, func(o *Options) { o.StopTimeout = 100 * time.Millisecond })
	f.create(t, e, configOf("incremental", "app", "clean"), false)
	f.clock.Advance(day)
	if err := e.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t)
	// The scans of the clean images may still run; the stop must find
	// only the patch running, or a scan resumes (and starts twice).
	waitFor(t, "the four scans to finish", func() bool {
		scans := runsOf(t, e, f.host, TaskScan)
		return len(scans) == 4 && !slices.ContainsFunc(scans, func(r Run) bool { return isOpen(string(r.Status)) })
	})
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := storedRuns(t, f.database, f.host, TaskPatch)
	if len(stopped) != 1 || stopped[0].Status != string(StatusQueued) {
		t.Fatalf("patch after the stop: %+v", stopped)
	}

	g.release()
	e = f.start(t)
	waitIdle(t, e, f.host)
	ctx := context.Background()
	if tr := runsOf(t, e, f.host, TaskTrigger); len(tr) != 1 || tr[0].Status != StatusSucceeded {
		t.Fatalf("triggers = %+v", tr)
	}
	scans := runsOf(t, e, f.host, TaskScan)
	if len(scans) != 4 {
		t.Fatalf("%d scans, want 4", len(scans))
	}
	for _, r := range append(scans, runsOf(t, e, f.host, TaskTrigger)...) {
		log, err := e.RunLog(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(log, "run started"); n != 1 {
			t.Errorf("%s %s started %d times:\n%s", r.Task, r.Image, n, log)
		}
	}
	patches := runsOf(t, e, f.host, TaskPatch)
	if len(patches) != 1 || patches[0].Status != StatusSucceeded || patches[0].Result.PatchedImage != "app:1.0-1" {
		t.Fatalf("patches = %+v", patches)
	}
	log, err := e.RunLog(ctx, patches[0].ID)
	if err != nil || !strings.Contains(log, "interrupted") || strings.Count(log, "run started") != 2 {
		t.Errorf("patch log:\n%s", log)
	}
	if got := strings.Join(f.tags(t, "app"), ","); got != "1.0,1.0-1" {
		t.Errorf("app tags = %s", got)
	}
}

// TestMissedCyclesRunOnce starts an engine five and a half days after the
// workflow's creation: one cycle (the latest due) runs, not five.
func TestMissedCyclesRunOnce(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-2"), "clean", "1.0")
	e := f.start(t)
	f.create(t, e, configOf("incremental", "clean"), false)
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5*day + 12*time.Hour)
	e = f.start(t)
	waitFor(t, "the missed cycle", func() bool { return len(runsOf(t, e, f.host, TaskTrigger)) > 0 })
	waitIdle(t, e, f.host)
	tr := runsOf(t, e, f.host, TaskTrigger)
	if len(tr) != 1 || tr[0].Cycle != 5 {
		t.Fatalf("triggers = %+v", tr)
	}
	w, err := e.Get(context.Background(), f.host, TypeContinuousPatchV1)
	if err != nil || !w.NextRunAt.Equal(t0.Add(6*day)) {
		t.Fatalf("next run = %v, %v", w.NextRunAt, err)
	}
	f.runCycle(t, e, day)
	if tr := runsOf(t, e, f.host, TaskTrigger); len(tr) != 2 || tr[1].Cycle != 6 {
		t.Fatalf("triggers = %+v", tr)
	}
}

// storedRuns reads the runs of a task straight from a SQLite file, with no
// engine running.
func storedRuns(t *testing.T, path, host, task string) []*store.Run {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := store.New(db).Runs(context.Background(), store.RunFilter{Registry: host, Task: task})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestSQLiteOneEngine: a second engine on a SQLite file in use fails with
// a clear error (it would take the first one's running runs for orphans);
// once the first closes, it opens.
func TestSQLiteOneEngine(t *testing.T) {
	f := newFixture(t)
	e := f.start(t)
	_, err := New(context.Background(), f.options())
	if !errors.Is(err, errLocked) || !strings.Contains(err.Error(), f.database) {
		t.Fatalf("second engine: %v", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e2, err := New(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
