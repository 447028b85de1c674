package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/store"
	"github.com/patchloop/patchloop/internal/store/storetest"
)

// dialects returns, per dialect, a function opening a migrated store.
func dialects(t *testing.T) map[string]func(t *testing.T) *store.Store {
	return map[string]func(t *testing.T) *store.Store{
		"sqlite": func(t *testing.T) *store.Store {
			db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return migrated(t, db)
		},
		"postgres": func(t *testing.T) *store.Store {
			db, err := store.OpenPostgres(context.Background(), storetest.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return migrated(t, db)
		},
	}
}

func migrated(t *testing.T, db store.DB) *store.Store {
	s := store.New(db)
	for range 2 { // migrating twice is a no-op
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestStore(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			w := &store.Workflow{ID: "wf1", Registry: "r.example", Type: "continuouspatchv1", Schedule: "1d",
				Config: []byte(`{"version":"v1"}`), CreatedAt: t0, UpdatedAt: t0, AnchorAt: t0, FirstCycle: 1, NextRunAt: t0.Add(24 * time.Hour)}
			if ok, err := s.CreateWorkflow(ctx, w); err != nil || !ok {
				t.Fatalf("create = %v, %v", ok, err)
			}
			if ok, err := s.CreateWorkflow(ctx, &store.Workflow{ID: "wf2", Registry: w.Registry, Type: w.Type, Config: []byte("{}")}); err != nil || ok {
				t.Fatalf("second create = %v, %v; want false", ok, err)
			}
			got, err := s.Workflow(ctx, w.Registry, w.Type)
			if err != nil || got.ID != "wf1" || !got.NextRunAt.Equal(w.NextRunAt) || string(got.Config) != string(w.Config) {
				t.Fatalf("workflow = %+v, %v", got, err)
			}
			if due, err := s.DueWorkflows(ctx, t0); err != nil || len(due) != 0 {
				t.Fatalf("due at t0 = %v, %v", due, err)
			}
			if due, err := s.DueWorkflows(ctx, t0.Add(25*time.Hour)); err != nil || len(due) != 1 {
				t.Fatalf("due later = %v, %v", due, err)
			}

			// Many claimers, one winner.
			var wins sync.Map
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					ok, err := s.ClaimCycle(ctx, "wf1", 1, t0, t0, "p")
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Store(i, true)
					}
				})
			}
			wg.Wait()
			n := 0
			wins.Range(func(any, any) bool { n++; return true })
			if n != 1 {
				t.Fatalf("%d claims won, want 1", n)
			}

			r := &store.Run{ID: "aaaa", WorkflowID: "wf1", Task: "scan", Registry: w.Registry, Type: w.Type, Cycle: 1,
				Image: "app:1.0", Status: "Queued", CreatedAt: t0}
			if ok, err := s.InsertRun(ctx, r, func() string { return "x" }); err != nil || !ok {
				t.Fatalf("insert = %v, %v", ok, err)
			}
			dup := *r
			dup.ID = "bbbb"
			if ok, err := s.InsertRun(ctx, &dup, func() string { return "y" }); err != nil || ok {
				t.Fatalf("duplicate insert = %v, %v", ok, err)
			}
			other := *r
			other.Image = "app:2.0" // same ID: gets a new one
			if ok, err := s.InsertRun(ctx, &other, func() string { return "cccc" }); err != nil || !ok || other.ID != "cccc" {
				t.Fatalf("colliding insert = %v, %v, id %s", ok, err, other.ID)
			}
			open := []string{"Queued", "Running"}
			testLease(t, s, "aaaa")
			if ok, err := s.FinishRun(ctx, "aaaa", open, "b", "Succeeded", []byte(`{"fixable":1}`), "", t0.Add(time.Minute)); err != nil || ok {
				t.Fatalf("finish by a lost owner = %v, %v", ok, err)
			}
			if ok, err := s.FinishRun(ctx, "aaaa", open, "c", "Succeeded", []byte(`{"fixable":1}`), "", t0.Add(time.Minute)); err != nil || !ok {
				t.Fatalf("finish = %v, %v", ok, err)
			}
			if ok, err := s.FinishRun(ctx, "aaaa", open, "", "Failed", nil, "late", t0); err != nil || ok {
				t.Fatalf("finishing a finished run = %v, %v", ok, err)
			}
			if n, err := s.CancelRuns(ctx, "wf1", open, "Canceled", t0); err != nil || n != 1 {
				t.Fatalf("cancel = %d, %v", n, err)
			}
			runs, err := s.Runs(ctx, store.RunFilter{Registry: w.Registry, Status: "Succeeded"})
			if err != nil || len(runs) != 1 || runs[0].ID != "aaaa" || string(runs[0].Result) != `{"fixable":1}` || runs[0].StartedAt == nil {
				t.Fatalf("runs = %+v, %v", runs, err)
			}
			if err := s.AppendLog(ctx, "aaaa", []store.LogLine{{At: t0, Text: "one"}, {At: t0, Text: "two"}}); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendLog(ctx, "aaaa", []store.LogLine{{At: t0, Text: "three"}}); err != nil {
				t.Fatal(err)
			}
			if log, err := s.Log(ctx, "aaaa"); err != nil || log != "one\ntwo\nthree\n" {
				t.Fatalf("log = %q, %v", log, err)
			}
			if err := s.CancelCycles(ctx, "wf1", t0); err != nil {
				t.Fatal(err)
			}
			if c, err := s.CycleCanceled(ctx, "wf1", 1); err != nil || !c {
				t.Fatalf("canceled = %v, %v", c, err)
			}
			if err := s.DeleteWorkflow(ctx, "wf1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Workflow(ctx, w.Registry, w.Type); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("after delete: %v", err)
			}
		})
	}
}

// A zero-byte database file is refused, not taken for a new database; a
// database the store made reopens.
func TestOpenSQLiteRefusesEmptyFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "patchloop.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenSQLite(ctx, path)
	if err == nil {
		_ = db.Close()
		t.Fatal("a zero-byte database file was opened")
	}
	for _, want := range []string{path, "empty file (0 bytes)", "restore it from a backup", "delete the file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to contain %q", err, want)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("the refused file was changed: %v %v", fi, err)
	}

	fresh := filepath.Join(t.TempDir(), "new.db")
	for range 2 {
		db, err := store.OpenSQLite(ctx, fresh)
		if err != nil {
			t.Fatal(err)
		}
		migrated(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// testLease walks a queued run through claims, heartbeats and releases:
// a live lease is never taken, a lapsed one is.
func testLease(t *testing.T, s *store.Store, id string) {
	t.Helper()
	ctx := context.Background()
	queued, hour := []string{"Queued"}, time.Hour
	if ok, err := s.ClaimRun(ctx, id, queued, "Running", "a", 1, hour, t0); err != nil || !ok {
		t.Fatalf("claim by a = %v, %v", ok, err)
	}
	if ok, err := s.ClaimRun(ctx, id, queued, "Running", "b", 1, hour, t0); err != nil || ok {
		t.Fatalf("claim by b of a live lease = %v, %v", ok, err)
	}
	if ok, err := s.Heartbeat(ctx, id, "b", "Running"); err != nil || ok {
		t.Fatalf("heartbeat by b = %v, %v", ok, err)
	}
	if ok, err := s.Heartbeat(ctx, id, "a", "Running"); err != nil || !ok {
		t.Fatalf("heartbeat by a = %v, %v", ok, err)
	}
	if runs, err := s.LapsedRuns(ctx, "Running", hour); err != nil || len(runs) != 0 {
		t.Fatalf("lapsed an hour ago = %+v, %v", runs, err)
	}
	runs, err := s.LapsedRuns(ctx, "Running", 0)
	if err != nil || len(runs) != 1 || runs[0].Owner != "a" || runs[0].JobID != 1 || runs[0].HeartbeatAt == nil || runs[0].Attempts != 1 {
		t.Fatalf("lapsed now = %+v, %v", runs, err)
	}
	if ok, err := s.ReleaseRun(ctx, id, "a", "Running", hour, "Queued", "lost", nil); err != nil || ok {
		t.Fatalf("release of a live lease = %v, %v", ok, err)
	}
	if ok, err := s.ReleaseRun(ctx, id, "a", "Running", 0, "Queued", "lost", nil); err != nil || !ok {
		t.Fatalf("release = %v, %v", ok, err)
	}
	if ok, err := s.Heartbeat(ctx, id, "a", "Running"); err != nil || ok {
		t.Fatalf("heartbeat after the release = %v, %v", ok, err)
	}
	if ok, err := s.ClaimRun(ctx, id, queued, "Running", "b", 2, hour, t0.Add(30*time.Second)); err != nil || !ok {
		t.Fatalf("claim by b = %v, %v", ok, err)
	}
	if ok, err := s.SetPushing(ctx, id, "a", "Running", "x"); err != nil || ok {
		t.Fatalf("push by a = %v, %v", ok, err)
	}
	if ok, err := s.SetPushing(ctx, id, "b", "Running", `{"patchedImage":"app:1.0-1"}`); err != nil || !ok {
		t.Fatalf("push by b = %v, %v", ok, err)
	}
	// A lapsed lease (timeout 0) is claimed straight from Running.
	if ok, err := s.ClaimRun(ctx, id, queued, "Running", "c", 3, 0, t0); err != nil || !ok {
		t.Fatalf("claim of a lapsed lease = %v, %v", ok, err)
	}
	r, err := s.Run(ctx, id)
	if err != nil || r.Owner != "c" || r.JobID != 3 || r.Attempts != 3 || r.Pushing != `{"patchedImage":"app:1.0-1"}` || r.Error != "lost" {
		t.Fatalf("run = %+v, %v", r, err)
	}
	// Later attempts keep the first one's start: a run's duration covers
	// all its attempts.
	if r.StartedAt == nil || !r.StartedAt.Equal(t0) {
		t.Fatalf("started_at = %v, want the first claim's %v", r.StartedAt, t0)
	}
}
