package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/store"
)

// Images lists, per original image of the registry's workflows, the scan
// run of the latest cycle that scanned it and that scan's patch run, with
// the last patched image. Only the images of the workflow's latest cycle
// whose trigger succeeded are listed (the reference's "most recently
// executed" tasks): an image the config no longer selects, or that no
// longer exists, leaves the list at the next cycle. A failed trigger is
// not an image; callers show it from Runs (LatestTrigger). status filters: failed (scan or patch failed),
// successful (Succeeded or Skipped), running (Queued, Started, Running),
// or one RunStatus; case does not matter. ErrNotFound when the registry
// has no workflow.
func (e *Engine) Images(ctx context.Context, registry, status string) ([]ImageStatus, error) {
	keep, err := imageFilter(status)
	if err != nil {
		return nil, err
	}
	host, _, err := e.checkTarget(registry, "")
	if err != nil {
		return nil, err
	}
	wfs, err := e.store.Workflows(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(wfs) == 0 {
		return nil, fmt.Errorf("%w: registry %s has no workflow", ErrNotFound, host)
	}
	patched, err := e.store.LatestRunsWithStatus(ctx, host, TaskPatch, string(StatusSucceeded))
	if err != nil {
		return nil, err
	}
	lastPatch := map[string]Run{}
	for _, r := range patched {
		lastPatch[r.Image] = toRun(r)
	}
	out := []ImageStatus{}
	for _, w := range wfs {
		cycle, ok, err := e.latestExpandedCycle(ctx, w)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		scans, err := e.store.LatestRuns(ctx, w.ID, TaskScan)
		if err != nil {
			return nil, err
		}
		scans = slices.DeleteFunc(scans, func(r *store.Run) bool { return r.Cycle != cycle })
		patches, err := e.store.LatestRuns(ctx, w.ID, TaskPatch)
		if err != nil {
			return nil, err
		}
		patchOf := map[string]*store.Run{}
		for _, p := range patches {
			patchOf[p.ParentID] = p
		}
		for _, s := range scans {
			st := imageStatus(w.Type, s, patchOf[s.ID], lastPatch)
			if keep(st) {
				out = append(out, st)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ImageStatus) int { return strings.Compare(a.Image, b.Image) })
	return out, nil
}

// latestExpandedCycle returns the latest cycle of w whose trigger
// succeeded, that is, whose images were queued; false when none has.
func (e *Engine) latestExpandedCycle(ctx context.Context, w *store.Workflow) (int64, bool, error) {
	runs, err := e.store.Runs(ctx, store.RunFilter{Registry: w.Registry, WorkflowID: w.ID, Task: TaskTrigger, Status: string(StatusSucceeded), Limit: 1})
	if err != nil || len(runs) == 0 {
		return 0, false, err
	}
	return runs[0].Cycle, true, nil
}

// imageStatus builds the block of one image.
func imageStatus(typ string, scan, patch *store.Run, lastPatch map[string]Run) ImageStatus {
	sr := toRun(scan)
	st := ImageStatus{Image: sr.Image, WorkflowType: typ, Scan: &sr}
	if patch != nil {
		pr := toRun(patch)
		st.Patch = &pr
		st.SkippedReason = pr.Result.SkippedReason
	} else if sr.Status == StatusSucceeded || sr.Status == StatusSkipped {
		st.SkippedReason = sr.Result.SkippedReason
	}
	st.LastPatchedImage = lastPatchedImage(sr, st.Patch, lastPatch)
	return st
}

// lastPatchedImage is the newest of: the patch run of this scan when it
// succeeded, the last successful patch of the image, and the patch tag the
// scan found as the lineage's latest.
func lastPatchedImage(scan Run, patch *Run, lastPatch map[string]Run) string {
	if patch != nil && patch.Status == StatusSucceeded && patch.Result.PatchedImage != "" {
		return patch.Result.PatchedImage
	}
	best, at := "", time.Time{}
	if scan.Result.ScannedImage != "" && scan.Result.ScannedImage != scan.Image {
		best, at = scan.Result.ScannedImage, scan.CreatedAt
	}
	if p, ok := lastPatch[scan.Image]; ok && p.Result.PatchedImage != "" && (best == "" || finishedAt(p).After(at)) {
		best = p.Result.PatchedImage
	}
	return best
}

func finishedAt(r Run) time.Time {
	if r.FinishedAt != nil {
		return *r.FinishedAt
	}
	return r.CreatedAt
}

// imageFilter parses the status filter of Images.
func imageFilter(status string) (func(ImageStatus) bool, error) {
	in := func(s RunStatus, set ...RunStatus) bool { return slices.Contains(set, s) }
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "":
		return func(ImageStatus) bool { return true }, nil
	case "failed":
		return func(st ImageStatus) bool {
			return st.Scan.Status == StatusFailed || (st.Patch != nil && st.Patch.Status == StatusFailed)
		}, nil
	case "successful":
		return func(st ImageStatus) bool {
			return in(st.Scan.Status, StatusSucceeded, StatusSkipped) &&
				(st.Patch == nil || in(st.Patch.Status, StatusSucceeded, StatusSkipped))
		}, nil
	case "running":
		return func(st ImageStatus) bool {
			return in(st.Scan.Status, StatusQueued, StatusStarted, StatusRunning) ||
				(st.Patch != nil && in(st.Patch.Status, StatusQueued, StatusStarted, StatusRunning))
		}, nil
	}
	want, err := ParseRunStatus(status)
	if err != nil {
		return nil, fmt.Errorf("%w: status %q: want failed, successful, running or a run status (%s)", ErrInvalidInput, status, strings.Join(statusNames(), ", "))
	}
	return func(st ImageStatus) bool { return st.Scan.Status == want || patchStatus(st) == want }, nil
}

// patchStatus is the status of an image's patch: its run's, or Skipped
// when a successful scan queued none.
func patchStatus(st ImageStatus) RunStatus {
	switch {
	case st.Patch != nil:
		return st.Patch.Status
	case st.Scan.Status == StatusSucceeded:
		return StatusSkipped
	}
	return ""
}
