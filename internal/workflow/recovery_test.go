package workflow

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestLiveLeaseIsKept holds a patch in its package download for longer
// than the lease timeout, with sweeps running all along: a live attempt
// renews its lease, so no sweep takes its run, and it runs once.
func TestLiveLeaseIsKept(t *testing.T) {
	f := newFixture(t)
	g := newGate(t, f)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	const lease = 5 * time.Second
	e := f.start(t, func(o *Options) { o.HeartbeatInterval = 100 * time.Millisecond; o.LeaseTimeout = lease })
	f.create(t, e, configOf("incremental", "app"), false)
	f.clock.Advance(day)
	if err := e.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t)
	entered := time.Now()
	waitFor(t, "a sweep begun a lease timeout after the download", func() bool {
		return time.Unix(0, e.swept.Load()).After(entered.Add(lease))
	})
	g.release()
	waitIdle(t, e, f.host)
	patches := runsOf(t, e, f.host, TaskPatch)
	if len(patches) != 1 || patches[0].Status != StatusSucceeded || patches[0].Result.PatchedImage != "app:1.0-1" {
		t.Fatalf("patches = %+v", patches)
	}
	log, err := e.RunLog(context.Background(), patches[0].ID)
	if err != nil || strings.Count(log, "run started") != 1 || strings.Contains(log, "lost") {
		t.Errorf("patch log (%v):\n%s", err, log)
	}
	if got := strings.Join(f.tags(t, "app"), ","); got != "1.0,1.0-1" {
		t.Errorf("app tags = %s", got)
	}
}

// TestLostLeaseStopsAttempt releases a running patch's run behind its
// back, as the sweeper of another process would after a lapsed lease: the
// attempt notices at its next heartbeat, stops without pushing or
// recording anything, and a new attempt patches the image once.
func TestLostLeaseStopsAttempt(t *testing.T) {
	f := newFixture(t)
	g := newGate(t, f)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	e := f.start(t, func(o *Options) { o.HeartbeatInterval = 50 * time.Millisecond; o.LeaseTimeout = time.Minute })
	f.create(t, e, configOf("incremental", "app"), false)
	f.clock.Advance(day)
	if err := e.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t)
	for len(g.entered) > 0 {
		<-g.entered
	}
	ctx := context.Background()
	running, err := e.store.LapsedRuns(ctx, string(StatusRunning), 0)
	if err != nil || len(running) != 1 || running[0].Task != TaskPatch {
		t.Fatalf("running = %+v, %v", running, err)
	}
	ok, err := e.store.ReleaseRun(ctx, running[0].ID, running[0].Owner, string(StatusRunning), 0, string(StatusQueued), "taken away by the test", nil)
	if err != nil || !ok {
		t.Fatalf("release = %v, %v", ok, err)
	}
	g.waitEntered(t) // the next attempt
	g.release()
	waitIdle(t, e, f.host)
	patches := runsOf(t, e, f.host, TaskPatch)
	if len(patches) != 1 || patches[0].Status != StatusSucceeded || patches[0].Result.PatchedImage != "app:1.0-1" {
		t.Fatalf("patches = %+v", patches)
	}
	log, err := e.RunLog(ctx, patches[0].ID)
	if err != nil || strings.Count(log, "run started") != 2 || !strings.Contains(log, "lease on the run lost") {
		t.Errorf("patch log (%v):\n%s", err, log)
	}
	if got := strings.Join(f.tags(t, "app"), ","); got != "1.0,1.0-1" {
		t.Errorf("app tags = %s", got)
	}
}
