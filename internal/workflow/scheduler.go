package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/patchloop/patchloop/internal/schedule"
	"github.com/patchloop/patchloop/internal/store"
)

// schedulerLoop claims due cycles every SchedulerInterval, when the clock
// jumps and when asked to (kick), until ctx ends.
func (e *Engine) schedulerLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(e.opts.SchedulerInterval)
	defer ticker.Stop()
	for {
		if err := e.Tick(ctx); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "scheduler", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-e.clock.Wake():
		case <-e.wake:
		}
	}
}

// Tick starts every cycle due at the clock's time: for each workflow the
// latest due cycle only, so cycles missed while no engine ran start once.
// Claiming a cycle is a unique insert, so with several engines exactly one
// starts it; the winner queues its trigger task in the same transaction.
func (e *Engine) Tick(ctx context.Context) error {
	now := e.clock.Now()
	due, err := e.store.DueWorkflows(ctx, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, w := range due {
		if err := e.startCycle(ctx, w, now); err != nil {
			errs = append(errs, fmt.Errorf("workflow %s %s: %w", w.Registry, w.Type, err))
		}
	}
	return errors.Join(errs...)
}

// cycleAt returns the latest cycle of w due at now and when it was due;
// ok is false when none is due yet.
func cycleAt(w *store.Workflow, interval time.Duration, now time.Time) (cycle int64, due time.Time, ok bool) {
	if now.Before(w.AnchorAt) {
		return 0, time.Time{}, false
	}
	n := w.AnchorCycle + int64(now.Sub(w.AnchorAt)/interval)
	if n < w.FirstCycle {
		return 0, time.Time{}, false
	}
	return n, dueAt(w, interval, n), true
}

// dueAt returns when cycle n of w is due.
func dueAt(w *store.Workflow, interval time.Duration, n int64) time.Time {
	return w.AnchorAt.Add(time.Duration(n-w.AnchorCycle) * interval)
}

// errStaleWorkflow says the workflow changed while its cycle was claimed.
var errStaleWorkflow = errors.New("workflow changed meanwhile")

// startCycle claims the latest due cycle of w and queues its trigger.
func (e *Engine) startCycle(ctx context.Context, w *store.Workflow, now time.Time) error {
	sched, err := schedule.Parse(w.Schedule)
	if err != nil {
		return err
	}
	interval := sched.Interval()
	cycle, due, ok := cycleAt(w, interval, now)
	if !ok {
		return nil
	}
	next := dueAt(w, interval, cycle+1)
	ref := JobRef{WorkflowID: w.ID, Registry: w.Registry, Type: w.Type, Cycle: cycle, RunID: newRunID()}
	var won bool
	err = e.store.InTx(ctx, func(tx *store.Store, native any) error {
		var err error
		if won, err = tx.ClaimCycle(ctx, w.ID, cycle, due, now, e.opts.Name); err != nil || !won {
			return err
		}
		advanced, err := tx.AdvanceWorkflow(ctx, w.ID, w.AnchorAt, next)
		if err != nil {
			return err
		}
		if !advanced {
			return errStaleWorkflow
		}
		run := &store.Run{ID: ref.RunID, WorkflowID: w.ID, Task: TaskTrigger, Registry: w.Registry, Type: w.Type,
			Cycle: cycle, Status: string(StatusQueued), CreatedAt: now}
		if _, err := tx.InsertRun(ctx, run, newRunID); err != nil {
			return err
		}
		ref.RunID = run.ID
		return e.queue.insertTx(ctx, native, []river.InsertManyParams{{Args: TriggerArgs{JobRef: ref}, InsertOpts: e.insertOpts(ref)}})
	})
	if errors.Is(err, errStaleWorkflow) {
		return nil // the next tick sees the new schedule
	}
	if err != nil {
		return err
	}
	if !won {
		// Another engine started it; make sure this one stops seeing it due.
		_, err := e.store.AdvanceWorkflow(ctx, w.ID, w.AnchorAt, next)
		return err
	}
	e.log.InfoContext(ctx, "cycle started", "registry", w.Registry, "type", w.Type, "cycle", cycle, "due", due, "run", ref.RunID)
	return nil
}
