package workflow

import (
	"cmp"
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/store"
)

// scanWorker runs cssc-scan-image.
type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	e *Engine
}

// Timeout bounds a scan attempt.
func (w *scanWorker) Timeout(*river.Job[ScanArgs]) time.Duration { return w.e.opts.ScanTimeout }

// Work scans the newest image of the lineage and queues its patch when it
// has fixable vulnerabilities.
func (w *scanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	t, ctx, err := w.e.begin(ctx, job.Args.JobRef, job.Args.Registry+"/"+job.Args.Repository+":"+job.Args.Tag, job.JobRow)
	if t == nil {
		return err
	}
	defer t.cancel(nil)
	status, res, err := t.scan(ctx, job.Args)
	return t.end(ctx, status, res, err)
}

// Reasons a scan gives for skipping the patch.
const (
	reasonEOSL     = "EOSL is true for image "
	reasonNoVulns  = "no vulnerability found in the image "
	reasonNoScanOS = "the image's OS cannot be scanned: "
)

// scan scans the lineage's newest image (its latest patch when there is
// one, else the original), every Linux platform of it.
func (t *task) scan(ctx context.Context, a ScanArgs) (RunStatus, RunResult, error) {
	e := t.e
	res := RunResult{ScannedImage: a.Repository + ":" + a.Tag}
	if a.LatestPatchTag != "" {
		res.ScannedImage = a.Repository + ":" + a.LatestPatchTag
	}
	t.log.InfoContext(ctx, "scanning", "image", res.ScannedImage)
	targets, err := scan.Resolve(ctx, e.opts.Registry, a.Registry+"/"+res.ScannedImage, nil)
	if registry.IsNotFound(err) {
		return "", res, permanent(err)
	}
	if err != nil {
		return "", res, err
	}
	ignore, err := e.loadIgnore()
	if err != nil {
		return "", res, err
	}
	vdb, err := e.openVulnDB(ctx)
	if err != nil {
		return "", res, err
	}
	defer vdb.Close()
	unsupported, supported, eosl := "", 0, false
	for _, tg := range targets {
		rep, err := scan.Scan(ctx, tg.Image, vdb, tg.Options(scan.Options{Cache: e.scanCache, Logger: t.log, Ignore: ignore}))
		if err != nil {
			return "", res, err
		}
		if n := rep.Ignored(); n > 0 {
			t.log.InfoContext(ctx, "findings ignored", "platform", tg.Platform, "count", n, "file", ignore.Source)
		}
		for _, w := range rep.Warnings {
			t.log.WarnContext(ctx, "package not checked", "platform", tg.Platform, "package", w.PkgName, "version", w.InstalledVersion, "reason", w.Message)
		}
		switch {
		case !rep.Supported():
			t.log.InfoContext(ctx, "platform not scanned", "platform", tg.Platform, "reason", rep.Unsupported)
			unsupported = cmp.Or(unsupported, rep.Unsupported)
			continue
		case rep.Metadata.OS != nil && rep.Metadata.OS.EOSL:
			t.log.InfoContext(ctx, "end of service life", "platform", tg.Platform, "os", rep.Metadata.OS.Family+" "+rep.Metadata.OS.Name)
			eosl = true
		default:
			res.Vulnerabilities += len(rep.Vulnerabilities())
			res.Severities = countSeverities(res.Severities, rep, nil)
			if res.Severities == nil {
				res.Severities = map[string]int{} // none, as opposed to not known
			}
			res.Fixable += len(patch.FindingsFromReport(rep))
		}
		supported++
	}
	if supported == 0 {
		res.SkippedReason = reasonNoScanOS + unsupported
		t.log.InfoContext(ctx, "scan skipped", "reason", res.SkippedReason)
		return StatusSkipped, res, nil
	}
	// The reason names the original image, as the reference does, even
	// when its latest patch is what was scanned (ScannedImage says that).
	switch {
	case res.Fixable == 0 && eosl:
		res.SkippedReason = reasonEOSL + a.Repository + ":" + a.Tag
	case res.Fixable == 0:
		res.SkippedReason = reasonNoVulns + a.Repository + ":" + a.Tag
	}
	if res.SkippedReason != "" {
		t.log.InfoContext(ctx, "patch skipped", "reason", res.SkippedReason)
		return StatusSucceeded, res, nil
	}
	t.log.InfoContext(ctx, "fixable vulnerabilities found; queuing the patch", "vulnerabilities", res.Vulnerabilities, "fixable", res.Fixable)
	return StatusSucceeded, res, t.queuePatch(ctx, a, res)
}

// queuePatch records the scan's success, a Queued patch run and its job in
// one transaction.
func (t *task) queuePatch(ctx context.Context, a ScanArgs, res RunResult) error {
	e := t.e
	args := PatchArgs{
		JobRef:       JobRef{WorkflowID: a.WorkflowID, Registry: a.Registry, Type: a.Type, Cycle: a.Cycle, RunID: newRunID()},
		Repository:   a.Repository,
		Tag:          a.Tag,
		Convention:   a.Convention,
		ScannedImage: res.ScannedImage,
		ParentRunID:  a.RunID,
	}
	// The log so far is stored before the run turns final in the transaction.
	e.flushLog(ctx, t.ref.RunID, t.buf)
	return e.store.InTx(ctx, func(tx *store.Store, native any) error {
		if err := t.finishTx(ctx, tx, StatusSucceeded, res); err != nil {
			return err
		}
		canceled, err := tx.CycleCanceled(ctx, a.WorkflowID, a.Cycle)
		if err != nil {
			return err
		}
		if canceled {
			return errCanceled
		}
		run := &store.Run{ID: args.RunID, WorkflowID: a.WorkflowID, Task: TaskPatch, Registry: a.Registry, Type: a.Type,
			Cycle: a.Cycle, Image: a.Repository + ":" + a.Tag, ParentID: a.RunID, Status: string(StatusQueued),
			CreatedAt: e.clock.Now()}
		inserted, err := tx.InsertRun(ctx, run, newRunID)
		if err != nil || !inserted {
			return err
		}
		args.RunID = run.ID
		return e.queue.insertTx(ctx, native, []river.InsertManyParams{{Args: args, InsertOpts: e.insertOpts(args.JobRef)}})
	})
}

// loadIgnore reads the engine's ignore file (nil when none is set). A
// file that cannot be read or parsed fails the task without retrying:
// an operator has to fix it.
func (e *Engine) loadIgnore() (*scan.Ignore, error) {
	if e.opts.IgnoreFile == "" {
		return nil, nil
	}
	ig, err := scan.LoadIgnore(e.opts.IgnoreFile, false)
	if err != nil {
		return nil, permanent(err)
	}
	return ig, nil
}
