package workflow

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/patchloop/patchloop/internal/store/storetest"
)

// TestTwoEnginesSharePostgreSQL runs two engines on one PostgreSQL
// database, both told at once that a cycle is due: the cycle starts once
// and every image is scanned exactly once.
func TestTwoEnginesSharePostgreSQL(t *testing.T) {
	f := newFixture(t)
	f.database = storetest.Postgres(t)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0", "2.0")
	f.push(t, f.debian(t, "1.0-2"), "clean", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0")
	engines := []*Engine{
		f.start(t, func(o *Options) { o.Name = "one" }),
		f.start(t, func(o *Options) { o.Name = "two" }),
	}
	f.create(t, engines[0], configOf("incremental", "app", "clean"), false)
	for cycle := 1; cycle <= 2; cycle++ {
		f.clock.Advance(day)
		var wg sync.WaitGroup
		for _, e := range engines {
			for range 3 {
				wg.Go(func() {
					if err := e.Tick(context.Background()); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		waitIdle(t, engines[1], f.host)
	}
	ctx := context.Background()
	e := engines[1]
	tr := runsOf(t, e, f.host, TaskTrigger)
	if len(tr) != 2 || tr[0].Cycle != 1 || tr[1].Cycle != 2 {
		t.Fatalf("triggers = %+v", tr)
	}
	seen := map[string]int{}
	for _, r := range runsOf(t, e, f.host, TaskScan) {
		seen[r.Image+"@"+itoa(int(r.Cycle))]++
		log, err := e.RunLog(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(log, "run started"); n != 1 || r.Status != StatusSucceeded {
			t.Errorf("scan %s in cycle %d: %s, started %d times", r.Image, r.Cycle, r.Status, n)
		}
	}
	if len(seen) != 20 {
		t.Errorf("%d image scans over two cycles, want 20: %v", len(seen), seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s scanned %d times", k, n)
		}
	}
	patches := runsOf(t, e, f.host, TaskPatch)
	if len(patches) != 2 {
		t.Fatalf("patches = %+v", patches)
	}
	if got := strings.Join(f.tags(t, "app"), ","); got != "1.0,1.0-1,2.0,2.0-1" {
		t.Errorf("app tags = %s", got)
	}
}
