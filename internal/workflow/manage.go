package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/patchloop/patchloop/internal/config"
	"github.com/patchloop/patchloop/internal/store"
)

// Create validates the request, pushes the normalized config to
// PolicyRepository, stores the workflow and schedules its cycles: the
// first one schedule interval from now, or now with RunImmediately.
func (e *Engine) Create(ctx context.Context, req CreateRequest) (*Workflow, error) {
	host, typ, err := e.checkTarget(req.Registry, req.Type)
	if err != nil {
		return nil, err
	}
	cfg, normalized, cfgErr := parseConfig(req.ConfigName, req.Config)
	sched, schedErr := parseSchedule(req.Schedule)
	if err := errors.Join(cfgErr, schedErr); err != nil {
		return nil, err
	}
	if err := e.checkImageLimit(ctx, host, cfg); err != nil {
		return nil, err
	}
	if _, err := e.store.Workflow(ctx, host, typ); err == nil {
		return nil, existsError(host, typ)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	digest, err := e.pushConfig(ctx, host, normalized)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now().UTC()
	w := &store.Workflow{
		ID: newWorkflowID(), Registry: host, Type: typ, Schedule: sched.String(),
		Config: normalized, ConfigDigest: digest,
		CreatedAt: now, CreatedBy: req.By, UpdatedAt: now, UpdatedBy: req.By,
	}
	reanchor(w, -1, now, req.RunImmediately, sched.Interval())
	created, err := e.store.CreateWorkflow(ctx, w)
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, existsError(host, typ)
	}
	e.log.InfoContext(ctx, "workflow created", "registry", host, "type", typ, "schedule", w.Schedule, "next_run", w.NextRunAt)
	if req.RunImmediately {
		e.kick()
	}
	return toWorkflow(w)
}

func existsError(host, typ string) error {
	return fmt.Errorf("%w: registry %s already has a %s workflow; change it with `patchloop workflow update`", ErrExists, host, typ)
}

// reanchor makes cycles count from now, numbered after last: the first
// now with runNow, else one interval from now.
func reanchor(w *store.Workflow, last int64, now time.Time, runNow bool, interval time.Duration) {
	w.AnchorAt, w.AnchorCycle, w.FirstCycle = now, last+1, last+2
	if runNow {
		w.FirstCycle = last + 1
	}
	w.NextRunAt = dueAt(w, interval, w.FirstCycle)
}

// Update changes the config, the schedule or both, or with RunImmediately
// alone just runs a cycle now. A new schedule (or RunImmediately) counts
// from now.
func (e *Engine) Update(ctx context.Context, req UpdateRequest) (*Workflow, error) {
	host, typ, err := e.checkTarget(req.Registry, req.Type)
	if err != nil {
		return nil, err
	}
	if len(req.Config) == 0 && req.Schedule == "" && !req.RunImmediately {
		return nil, fmt.Errorf("%w: nothing to update: give a config, a schedule, run-immediately or any of them", ErrInvalidInput)
	}
	var normalized []byte
	var cfg *config.Config
	var errs []error
	if len(req.Config) > 0 {
		cfg, normalized, err = parseConfig(req.ConfigName, req.Config)
		errs = append(errs, err)
	}
	w, err := e.store.Workflow(ctx, host, typ)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: registry %s has no %s workflow; create it with `patchloop workflow create`", ErrNotFound, host, typ)
	}
	if err != nil {
		return nil, err
	}
	sched, err := parseSchedule(w.Schedule)
	if req.Schedule != "" {
		sched, err = parseSchedule(req.Schedule)
	}
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg != nil {
		if err := e.checkImageLimit(ctx, host, cfg); err != nil {
			return nil, err
		}
	}
	if normalized != nil && !bytes.Equal(normalized, w.Config) {
		if w.ConfigDigest, err = e.pushConfig(ctx, host, normalized); err != nil {
			return nil, err
		}
		w.Config = normalized
	}
	now := e.clock.Now().UTC()
	w.Schedule, w.UpdatedAt, w.UpdatedBy = sched.String(), now, req.By
	err = e.store.InTx(ctx, func(tx *store.Store, _ any) error {
		if req.Schedule != "" || req.RunImmediately {
			last, ok, err := tx.LastCycle(ctx, w.ID)
			if err != nil {
				return err
			}
			if !ok {
				last = -1
			}
			reanchor(w, last, now, req.RunImmediately, sched.Interval())
		}
		return tx.UpdateWorkflow(ctx, w)
	})
	if errors.Is(err, store.ErrNotFound) {
		// Deleted since it was read.
		return nil, fmt.Errorf("%w: registry %s has no %s workflow (it was deleted meanwhile); create it with `patchloop workflow create`", ErrNotFound, host, typ)
	}
	if err != nil {
		return nil, err
	}
	e.log.InfoContext(ctx, "workflow updated", "registry", host, "type", typ, "schedule", w.Schedule, "next_run", w.NextRunAt)
	if req.RunImmediately {
		e.kick()
	}
	return toWorkflow(w)
}

// Get returns a workflow.
func (e *Engine) Get(ctx context.Context, registry, typ string) (*Workflow, error) {
	w, err := e.workflow(ctx, registry, typ)
	if err != nil {
		return nil, err
	}
	return toWorkflow(w)
}

// workflow returns a stored workflow; ErrNotFound when absent.
func (e *Engine) workflow(ctx context.Context, registry, typ string) (*store.Workflow, error) {
	host, typ, err := e.checkTarget(registry, typ)
	if err != nil {
		return nil, err
	}
	w, err := e.store.Workflow(ctx, host, typ)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: registry %s has no %s workflow", ErrNotFound, host, typ)
	}
	return w, err
}

// Delete cancels the workflow's unfinished tasks, deletes the config
// artifact's repository and removes the workflow. Patched images and the
// run history stay. When the registry keeps the emptied repository (its
// API has no repository delete), the result says so.
func (e *Engine) Delete(ctx context.Context, registry, typ string) (*DeleteResult, error) {
	w, err := e.workflow(ctx, registry, typ)
	if err != nil {
		return nil, err
	}
	if _, err := e.cancelRuns(ctx, w); err != nil {
		return nil, err
	}
	if err := e.deletePolicyRepository(ctx, w.Registry); err != nil {
		return nil, err
	}
	res := &DeleteResult{PolicyRepositoryKept: e.policyRepositoryKept(ctx, w.Registry)}
	if err := e.store.DeleteWorkflow(ctx, w.ID); errors.Is(err, store.ErrNotFound) {
		// Another delete won the race.
		return nil, fmt.Errorf("%w: registry %s has no %s workflow (it was deleted meanwhile)", ErrNotFound, w.Registry, w.Type)
	} else if err != nil {
		return nil, err
	}
	if res.PolicyRepositoryKept != "" {
		e.log.WarnContext(ctx, res.PolicyRepositoryKept, "registry", w.Registry)
	}
	e.log.InfoContext(ctx, "workflow deleted", "registry", w.Registry, "type", w.Type)
	return res, nil
}

// CancelRuns cancels every queued, started or running task of the
// workflow (this cycle's; the next cycle runs as scheduled) and returns
// how many runs it canceled.
func (e *Engine) CancelRuns(ctx context.Context, registry, typ string) (int, error) {
	w, err := e.workflow(ctx, registry, typ)
	if err != nil {
		return 0, err
	}
	return e.cancelRuns(ctx, w)
}

// cancelRuns marks the started cycles canceled (their tasks queue nothing
// more), the unfinished runs Canceled, and cancels their River jobs;
// running jobs stop through their context.
func (e *Engine) cancelRuns(ctx context.Context, w *store.Workflow) (int, error) {
	var n int64
	err := e.store.InTx(ctx, func(tx *store.Store, _ any) error {
		now := e.clock.Now()
		if err := tx.CancelCycles(ctx, w.ID, now); err != nil {
			return err
		}
		var err error
		n, err = tx.CancelRuns(ctx, w.ID, openStatuses, string(StatusCanceled), now)
		return err
	})
	if err != nil {
		return 0, err
	}
	e.cancelLocal(w.ID)
	jobs, err := e.queue.cancelTagged(ctx, workflowTag(w.ID))
	if err != nil {
		return int(n), err
	}
	e.log.InfoContext(ctx, "runs canceled", "registry", w.Registry, "type", w.Type, "runs", n, "jobs", jobs)
	return int(n), nil
}
