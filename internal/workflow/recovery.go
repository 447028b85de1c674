package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/patchloop/patchloop/internal/store"
)

// Crash recovery. Every attempt holds a lease on its run (ClaimRun) and
// renews it every HeartbeatInterval (leaseLoop). Every engine sweeps
// every HeartbeatInterval: a run whose lease lapsed more than
// LeaseTimeout ago lost its worker (the process died or lost the
// database), so the run is queued again and its River job made available
// at once, or both fail when the job has no attempt left. Each change is a
// compare-and-set (same owner, lease still lapsed; same River attempt) in
// one transaction, so sweeping engines never step on each other or on a
// live attempt. On SQLite one process owns the queue, so at start every
// run and job still marked running is an orphan and is rescued at once.

// errLeaseAlive rolls back a release whose lease came back to life.
var errLeaseAlive = errors.New("lease alive")

// sweepLoop sweeps every HeartbeatInterval until ctx ends.
func (e *Engine) sweepLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(e.opts.HeartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		began := time.Now()
		if err := e.sweep(ctx, e.opts.LeaseTimeout); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "looking for runs whose worker died", "error", err)
		}
		e.swept.Store(began.UnixNano())
	}
}

// sweep recovers the runs whose lease lapsed more than timeout ago, and the
// River jobs running for longer than timeout whose run nobody holds (a
// worker died between taking the job and claiming its run, or between
// storing the outcome and telling River). timeout 0 recovers everything
// running: only for an engine that owns the whole queue and runs nothing
// yet.
func (e *Engine) sweep(ctx context.Context, timeout time.Duration) error {
	runs, err := e.store.LapsedRuns(ctx, string(StatusRunning), timeout)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range runs {
		if err := e.releaseRun(ctx, r, timeout); err != nil {
			errs = append(errs, err)
		}
	}
	now, err := e.store.Now(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	jobs, err := e.queue.runningSince(ctx, now.Add(-timeout))
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, j := range jobs {
		if err := e.rescueJob(ctx, j); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// releaseRun ends a lapsed lease: the run is queued again and its River
// attempt made available, or both fail when no attempt is left.
func (e *Engine) releaseRun(ctx context.Context, r *store.Run, timeout time.Duration) error {
	since := "it started"
	if r.HeartbeatAt != nil {
		since = r.HeartbeatAt.Format(time.RFC3339)
	}
	reason := fmt.Sprintf("attempt %d lost its worker: %q stopped renewing its lease at %s", r.Attempts, r.Owner, since)
	status := StatusQueued
	err := e.store.InTx(ctx, func(tx *store.Store, native any) error {
		job, err := e.queue.jobTx(ctx, native, r.JobID)
		if err != nil {
			return err
		}
		// The River attempt that claimed the run is still marked running
		// (a later attempt began after the last heartbeat).
		rescue := job != nil && job.State == rivertype.JobStateRunning && job.AttemptedAt != nil &&
			(r.HeartbeatAt == nil || !job.AttemptedAt.After(*r.HeartbeatAt))
		var finished *time.Time
		switch {
		case rescue && job.Attempt >= job.MaxAttempts, !rescue && (job == nil || finalized(job.State)):
			status = StatusFailed
			now := e.clock.Now()
			finished = &now
		}
		ok, err := tx.ReleaseRun(ctx, r.ID, r.Owner, string(StatusRunning), timeout, string(status), reason, finished)
		if err != nil {
			return err
		}
		if !ok {
			return errLeaseAlive
		}
		if !rescue {
			return nil
		}
		state := rivertype.JobStateAvailable
		if status == StatusFailed {
			state = rivertype.JobStateDiscarded
		}
		return e.queue.rescueTx(ctx, native, job, state, reason)
	})
	if errors.Is(err, errLeaseAlive) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover run %s: %w", r.ID, err)
	}
	what := "queued again"
	if status == StatusFailed {
		what = "failed: no attempt left"
	}
	e.log.WarnContext(ctx, "run recovered from a dead worker", "run", r.ID, "task", r.Task, "image", r.Image, "reason", reason, "now", what)
	e.noteInLog(ctx, r.ID, reason+"; "+what)
	return nil
}

// rescueJob makes a River job that has run for too long without holding
// its run available again, or completes it when its run is over.
func (e *Engine) rescueJob(ctx context.Context, job *rivertype.JobRow) error {
	var ref JobRef
	if err := json.Unmarshal(job.EncodedArgs, &ref); err != nil || ref.RunID == "" {
		return nil // not a Patchloop job: River's own rescuer handles it
	}
	run, err := e.store.Run(ctx, ref.RunID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if run != nil && run.Status == string(StatusRunning) {
		return nil // a live lease, or a lapsed one releaseRun handles
	}
	state := rivertype.JobStateAvailable
	reason := fmt.Sprintf("job attempt %d lost its worker before it claimed its run", job.Attempt)
	switch {
	case run == nil || !isOpen(run.Status):
		state, reason = rivertype.JobStateCompleted, fmt.Sprintf("job attempt %d lost its worker after its run finished", job.Attempt)
	case job.Attempt >= job.MaxAttempts:
		state = rivertype.JobStateDiscarded
	}
	err = e.store.InTx(ctx, func(tx *store.Store, native any) error {
		if state == rivertype.JobStateDiscarded {
			if _, err := tx.FinishRun(ctx, run.ID, claimable, "", string(StatusFailed), run.Result, reason+"; no attempt left", e.clock.Now()); err != nil {
				return err
			}
		}
		return e.queue.rescueTx(ctx, native, job, state, reason)
	})
	if err != nil {
		return fmt.Errorf("recover job %d: %w", job.ID, err)
	}
	e.log.WarnContext(ctx, "job recovered from a dead worker", "job", job.ID, "run", ref.RunID, "reason", reason, "state", state)
	return nil
}

// finalized reports whether a River job state is final.
func finalized(s rivertype.JobState) bool {
	switch s {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return true
	}
	return false
}

// noteInLog appends one line to a run's log.
func (e *Engine) noteInLog(ctx context.Context, runID, line string) {
	if err := e.store.AppendLog(ctx, runID, []store.LogLine{{At: time.Now(), Text: "level=WARN msg=" + fmt.Sprintf("%q", line)}}); err != nil {
		e.log.WarnContext(ctx, "storing run log", "run", runID, "error", err)
	}
}
