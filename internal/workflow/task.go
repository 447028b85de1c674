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

// errCanceled says a run was canceled (CancelRuns, Delete) before it
// could finish.
var errCanceled = errors.New("canceled")

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
	cancel   context.CancelCauseFunc
	stopLogs chan struct{} // stops the periodic log flush
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
	go e.flushLoop(context.WithoutCancel(ctx), ref.RunID, t.buf, t.stopLogs)
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

// start loads the run and marks it Running.
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
		if _, err := e.store.FinishRun(ctx, run.ID, openStatuses, string(StatusCanceled), run.Result, "", e.clock.Now()); err != nil {
			return nil, err
		}
		return nil, river.JobCancel(errCanceled)
	}
	ok, err := e.store.StartRun(ctx, run.ID, openStatuses, string(StatusRunning), e.clock.Now())
	if err != nil || !ok {
		return nil, err
	}
	t := &task{e: e, ref: ref, job: job, buf: &runLog{}}
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
	ok, err := tx.FinishRun(ctx, t.ref.RunID, openStatuses, string(status), encodeResult(res), "", t.e.clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return errCanceled
	}
	t.finished = true
	return nil
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
	defer e.flushLog(sctx, t.ref.RunID, t.buf)
	now := e.clock.Now()
	finish := func(status RunStatus, msg string) error {
		_, ferr := e.store.FinishRun(sctx, t.ref.RunID, openStatuses, string(status), encodeResult(res), msg, now)
		return ferr
	}
	switch {
	case err == nil:
		if !t.finished {
			if ferr := finish(status, ""); ferr != nil {
				return ferr
			}
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
		if _, ferr := e.store.RequeueRun(sctx, t.ref.RunID, openStatuses, string(StatusQueued), ""); ferr != nil {
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
	if _, ferr := e.store.RequeueRun(sctx, t.ref.RunID, openStatuses, string(StatusQueued), err.Error()); ferr != nil {
		return ferr
	}
	return err
}
