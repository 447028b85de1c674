package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/patchloop/patchloop/internal/config"
	"github.com/patchloop/patchloop/internal/discover"
	"github.com/patchloop/patchloop/internal/store"
)

// triggerWorker runs cssc-trigger-workflow.
type triggerWorker struct {
	river.WorkerDefaults[TriggerArgs]
	e *Engine
}

// Timeout bounds a trigger attempt.
func (w *triggerWorker) Timeout(*river.Job[TriggerArgs]) time.Duration {
	return w.e.opts.TriggerTimeout
}

// Work expands the workflow's config and queues a scan per image.
func (w *triggerWorker) Work(ctx context.Context, job *river.Job[TriggerArgs]) error {
	t, ctx, err := w.e.begin(ctx, job.Args.JobRef, "", job.JobRow)
	if t == nil {
		return err
	}
	defer t.cancel(nil)
	res, err := t.trigger(ctx)
	return t.end(ctx, StatusSucceeded, res, err)
}

// trigger queues, in one transaction with the run's success, a scan run
// and job per image the config selects; on a second attempt the images
// already queued are not queued again.
func (t *task) trigger(ctx context.Context) (RunResult, error) {
	e := t.e
	var res RunResult
	w, err := e.store.WorkflowByID(ctx, t.ref.WorkflowID)
	if errors.Is(err, store.ErrNotFound) {
		return res, errCanceled
	}
	if err != nil {
		return res, err
	}
	cfg, err := t.followConfig(ctx, w)
	if err != nil {
		return res, err
	}
	t.refreshVulnDB(ctx)
	found, err := discover.Targets(ctx, e.opts.Registry, w.Registry, cfg, discover.Options{MaxImages: e.opts.MaxImages})
	if errors.Is(err, discover.ErrTooManyImages) {
		return res, permanent(tooManyImages(err))
	}
	if err != nil {
		return res, err
	}
	for _, warn := range found.Warnings {
		t.log.WarnContext(ctx, warn.String())
	}
	res.Images = len(found.Targets)
	// The log so far is stored before the run turns final in the transaction.
	e.flushLog(ctx, t.ref.RunID, t.buf)
	err = e.store.InTx(ctx, func(tx *store.Store, native any) error {
		canceled, err := tx.CycleCanceled(ctx, t.ref.WorkflowID, t.ref.Cycle)
		if err != nil {
			return err
		}
		if canceled {
			return errCanceled
		}
		jobs, err := t.queueScans(ctx, tx, cfg, found.Targets)
		if err != nil {
			return err
		}
		if err := e.queue.insertTx(ctx, native, jobs); err != nil {
			return err
		}
		return t.finishTx(ctx, tx, StatusSucceeded, res)
	})
	if err != nil {
		return res, err
	}
	t.log.InfoContext(ctx, "queued scans", "images", res.Images)
	return res, nil
}

// followConfig reads the workflow's config from its artifact, the source
// of truth, so that a config pushed with oras or crane changes this cycle;
// the service's copy follows it. A missing or invalid artifact fails the
// trigger at once and leaves the last good config stored (for show).
func (t *task) followConfig(ctx context.Context, w *store.Workflow) (*config.Config, error) {
	pc, err := t.e.fetchConfig(ctx, w.Registry, w.Type)
	if errors.Is(err, ErrConfigArtifact) {
		return nil, permanent(err)
	}
	if err != nil {
		return nil, fmt.Errorf("read the workflow config artifact: %w", err)
	}
	if pc.digest != w.ConfigDigest || !bytes.Equal(pc.normalized, w.Config) {
		t.log.InfoContext(ctx, "the config artifact changed; following it", "artifact", pc.ref, "previous_digest", w.ConfigDigest)
		if err := t.e.store.FollowConfig(ctx, w.ID, pc.normalized, pc.digest); err != nil {
			return nil, err
		}
	}
	return pc.cfg, nil
}

// tooManyImages turns discover's limit error into ErrTooManyImages with
// the same text.
func tooManyImages(err error) error {
	detail := strings.TrimPrefix(err.Error(), discover.ErrTooManyImages.Error()+": ")
	return fmt.Errorf("%w: %s", ErrTooManyImages, detail)
}

// checkImageLimit fails with ErrTooManyImages when cfg selects more than
// MaxImages images of host now, so that create and update refuse what a
// cycle would fail on. Other registry errors do not fail the request
// (the cycle reports them); they are logged.
func (e *Engine) checkImageLimit(ctx context.Context, host string, cfg *config.Config) error {
	_, err := discover.Targets(ctx, e.opts.Registry, host, cfg, discover.Options{MaxImages: e.opts.MaxImages})
	switch {
	case errors.Is(err, discover.ErrTooManyImages):
		return tooManyImages(err)
	case err != nil && ctx.Err() != nil:
		return err
	case err != nil:
		e.log.WarnContext(ctx, "could not count the images the config selects; the first cycle will", "registry", host, "error", err)
	}
	return nil
}

// queueScans records a Queued scan run per target and returns the jobs to
// insert for those not recorded before.
func (t *task) queueScans(ctx context.Context, tx *store.Store, cfg *config.Config, targets []discover.Target) ([]river.InsertManyParams, error) {
	now := t.e.clock.Now()
	jobs := make([]river.InsertManyParams, 0, len(targets))
	for _, tg := range targets {
		args := ScanArgs{
			JobRef:      JobRef{WorkflowID: t.ref.WorkflowID, Registry: t.ref.Registry, Type: t.ref.Type, Cycle: t.ref.Cycle, RunID: newRunID()},
			Repository:  tg.Repository,
			Tag:         tg.Tag,
			Convention:  cfg.TagConvention,
			ParentRunID: t.ref.RunID,
		}
		scanned := tg.Repository + ":" + tg.Tag
		if tg.LatestPatchTag != nil {
			args.LatestPatchTag = *tg.LatestPatchTag
			scanned = tg.Repository + ":" + *tg.LatestPatchTag
		}
		run := &store.Run{ID: args.RunID, WorkflowID: t.ref.WorkflowID, Task: TaskScan, Registry: t.ref.Registry,
			Type: t.ref.Type, Cycle: t.ref.Cycle, Image: tg.Repository + ":" + tg.Tag, ParentID: t.ref.RunID,
			Status: string(StatusQueued), CreatedAt: now, Result: encodeResult(RunResult{ScannedImage: scanned})}
		inserted, err := tx.InsertRun(ctx, run, newRunID)
		if err != nil {
			return nil, err
		}
		if !inserted {
			continue
		}
		args.RunID = run.ID
		jobs = append(jobs, river.InsertManyParams{Args: args, InsertOpts: t.e.insertOpts(args.JobRef)})
	}
	return jobs, nil
}
