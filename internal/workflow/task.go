package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/redact"
	"github.com/patchloop/patchloop/internal/store"
)

// openStatuses are the states of a run that has not finished.
var openStatuses = []string{string(StatusQueued), string(StatusStarted), string(StatusRunning)}

// claimable are the states of a run an attempt may claim outright; a
// Running run only once its lease lapsed.
var claimable = []string{string(StatusQueued), string(StatusStarted)}

// errCanceled says a run was canceled (CancelRuns, Delete) before it
// could finish.
var errCanceled = errors.New("canceled")

// errLeaseLost says an attempt no longer holds its run's lease: it could
// not renew it in time, and another attempt may run the run.
var errLeaseLost = errors.New("lease on the run lost")

// permanentError is an error retrying cannot fix.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// permanent marks err as not worth retrying.
func permanent(err error) error { return &permanentError{err: err} }

// task is one attempt at a run.
type task struct {
	e        *Engine
	ref      JobRef
	job      *rivertype.JobRow
	log      *slog.Logger
	buf      *runLog
	owner    string // the lease's holder: this attempt
	cancel   context.CancelCauseFunc
	stopLogs chan struct{} // stops the lease and log loop
	finished bool          // the run's final state is already stored
}

// begin marks the run of a job Running and returns the task with the
// context it runs in, which CancelRuns in this process cancels at once
// (River tells other processes). When there is nothing to do (the run
// already finished, or its cycle was canceled) it returns a nil task and
// what Work should return.
//
// The context carries the run's logger (logctx): every line the scanner,
// the patchers and the registry and repository clients log for this
// attempt goes to the serve log, with run_id, image and attempt, and to the
// run's log, and to no other run's.
func (e *Engine) begin(ctx context.Context, ref JobRef, image string, job *rivertype.JobRow) (*task, context.Context, error) {
	t, err := e.start(ctx, ref, image, job)
	if t == nil {
		return nil, ctx, err
	}
	ctx = logctx.With(ctx, t.log)
	ctx, t.cancel = context.WithCancelCause(ctx)
	e.running.Store(t, ref.WorkflowID)
	e.flushLog(ctx, ref.RunID, t.buf)
	t.stopLogs = make(chan struct{})
	go e.leaseLoop(context.WithoutCancel(ctx), t, t.stopLogs)
	return t, ctx, nil
}

// cancelLocal cancels the tasks of a workflow running in this process.
func (e *Engine) cancelLocal(workflowID string) {
	e.running.Range(func(k, v any) bool {
		if v == workflowID {
			k.(*task).cancel(errCanceled)
		}
		return true
	})
}

// start loads the run, claims its lease and marks it Running.
func (e *Engine) start(ctx context.Context, ref JobRef, image string, job *rivertype.JobRow) (*task, error) {
	run, err := e.store.Run(ctx, ref.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, river.JobCancel(fmt.Errorf("run %s: %w", ref.RunID, ErrRunNotFound))
	}
	if err != nil {
		return nil, err
	}
	if !isOpen(run.Status) {
		// A job that ran to the end once (its completion was lost, or
		// River rescued it): do not run it twice.
		return nil, nil
	}
	canceled, err := e.store.CycleCanceled(ctx, ref.WorkflowID, ref.Cycle)
	if err != nil {
		return nil, err
	}
	if canceled {
		if _, err := e.store.FinishRun(ctx, run.ID, claimable, "", string(StatusCanceled), run.Result, "", e.clock.Now()); err != nil {
			return nil, err
		}
		return nil, river.JobCancel(errCanceled)
	}
	owner := fmt.Sprintf("%s job %d attempt %d", e.opts.Name, job.ID, job.Attempt)
	ok, err := e.store.ClaimRun(ctx, run.ID, claimable, string(StatusRunning), owner, job.ID, e.opts.LeaseTimeout, e.clock.Now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, e.unclaimed(ctx, ref.RunID)
	}
	t := &task{e: e, ref: ref, job: job, owner: owner, buf: &runLog{}}
	attrs := []slog.Attr{slog.String("run_id", run.ID), slog.String("task", job.Kind),
		slog.String("workflow", ref.WorkflowID), slog.Int64("cycle", ref.Cycle), slog.Int("attempt", job.Attempt)}
	if image != "" {
		attrs = append(attrs, slog.String("image", image))
	} else {
		attrs = append(attrs, slog.String("registry", ref.Registry))
	}
	t.log = newRunLogger(e.log, t.buf, attrs...)
	t.log.InfoContext(ctx, "run started", "attempt", job.Attempt, "of", job.MaxAttempts)
	return t, nil
}

// unclaimed is what Work returns when a job could not claim its run:
// nothing when the run finished meanwhile; otherwise another attempt
// holds a live lease on it (its job was rescued while it ran), and the
// job looks again once that lease could have lapsed.
func (e *Engine) unclaimed(ctx context.Context, runID string) error {
	run, err := e.store.Run(ctx, runID)
	if err != nil {
		return err
	}
	if !isOpen(run.Status) {
		return nil
	}
	e.log.InfoContext(ctx, "run held by another attempt; looking again later", "run", runID, "owner", run.Owner)
	return river.JobSnooze(e.opts.LeaseTimeout)
}

func isOpen(status string) bool {
	for _, s := range openStatuses {
		if status == s {
			return true
		}
	}
	return false
}

// finishTx stores the run's final state inside tx, with the work that
// must happen together with it (queuing the next task).
func (t *task) finishTx(ctx context.Context, tx *store.Store, status RunStatus, res RunResult) error {
	ok, err := tx.FinishRun(ctx, t.ref.RunID, openStatuses, t.owner, string(status), encodeResult(res), "", t.e.clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return t.whyNotHeld(ctx, tx)
	}
	t.finished = true
	return nil
}

// whyNotHeld says why the attempt no longer holds its run: errCanceled
// when the run was canceled, errLeaseLost otherwise.
func (t *task) whyNotHeld(ctx context.Context, s *store.Store) error {
	run, err := s.Run(ctx, t.ref.RunID)
	if err != nil {
		return err
	}
	if run.Status == string(StatusCanceled) {
		return errCanceled
	}
	return errLeaseLost
}

// end stores the attempt's outcome (unless finishTx did) and its log, and
// returns what Work returns: nil when done, river.JobCancel when retrying
// makes no sense, or the error for River to retry.
func (t *task) end(ctx context.Context, status RunStatus, res RunResult, err error) error {
	// The job's context may be canceled; the bookkeeping must still happen.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	e := t.e
	// Whatever the error says is stored (runs, River's job rows): no
	// passwords of repository URLs.
	err = redact.Error(err)
	close(t.stopLogs)
	defer e.running.Delete(t)
	// The lines logged so far are stored before the outcome, so a reader who
	// sees the run final sees its log; the deferred flush stores the last line.
	e.flushLog(sctx, t.ref.RunID, t.buf)
	defer e.flushLog(sctx, t.ref.RunID, t.buf)
	now := e.clock.Now()
	finish := func(status RunStatus, msg string) error {
		_, ferr := e.store.FinishRun(sctx, t.ref.RunID, openStatuses, t.owner, string(status), encodeResult(res), msg, now)
		return ferr
	}
	switch {
	case err == nil && t.finished:
		// Stored already; a lease lost since then no longer matters.
		t.log.InfoContext(ctx, "run finished", "status", status)
		return nil
	case errors.Is(err, errLeaseLost) || errors.Is(context.Cause(ctx), errLeaseLost):
		// Another attempt may hold the run now: leave it alone. The error
		// has River look at the job again; an attempt that cannot claim
		// the run does nothing.
		t.log.WarnContext(ctx, "lease on the run lost; the attempt stops without recording an outcome", "error", err)
		return fmt.Errorf("attempt %d: %w", t.job.Attempt, errLeaseLost)
	case err == nil:
		ok, ferr := e.store.FinishRun(sctx, t.ref.RunID, openStatuses, t.owner, string(status), encodeResult(res), "", now)
		if ferr != nil {
			return ferr
		}
		if !ok {
			// Canceled or taken over meanwhile: River looks at the job
			// again, and an attempt finds the run as it is now.
			t.log.WarnContext(ctx, "the run's outcome was not stored: the attempt no longer holds the run", "status", status)
			return fmt.Errorf("attempt %d: %w", t.job.Attempt, t.whyNotHeld(sctx, e.store))
		}
		t.log.InfoContext(ctx, "run finished", "status", status)
		return nil
	case errors.Is(err, errCanceled) || errors.Is(context.Cause(ctx), errCanceled) ||
		errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely):
		t.log.InfoContext(ctx, "run canceled")
		if ferr := finish(StatusCanceled, ""); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		// The engine is stopping: River queues the job again without
		// counting the attempt, and the next engine resumes it.
		t.log.InfoContext(ctx, "run interrupted; it resumes when an engine starts")
		if _, ferr := e.store.RequeueRun(sctx, t.ref.RunID, openStatuses, t.owner, string(StatusQueued), ""); ferr != nil {
			return ferr
		}
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	var perm *permanentError
	if errors.As(err, &perm) || t.job.Attempt >= t.job.MaxAttempts {
		t.log.ErrorContext(ctx, "run failed", "error", err)
		if ferr := finish(StatusFailed, err.Error()); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	t.log.WarnContext(ctx, "attempt failed; retrying", "attempt", t.job.Attempt, "of", t.job.MaxAttempts, "error", err)
	if _, ferr := e.store.RequeueRun(sctx, t.ref.RunID, openStatuses, t.owner, string(StatusQueued), err.Error()); ferr != nil {
		return ferr
	}
	return err
}
