package workflow

import (
	"strconv"

	"github.com/riverqueue/river"

	"github.com/patchloop/patchloop/internal/tags"
)

// JobRef names the run a job carries out: which workflow, cycle and run.
// Every job args type embeds it.
type JobRef struct {
	WorkflowID string `json:"workflowId"`
	Registry   string `json:"registry"`
	Type       string `json:"type"`
	Cycle      int64  `json:"cycle"`
	RunID      string `json:"runId"`
}

// TriggerArgs are the arguments of a cssc-trigger-workflow job: expand the
// workflow's config and queue a scan per image.
type TriggerArgs struct {
	JobRef
}

// Kind returns the task name.
func (TriggerArgs) Kind() string { return TaskTrigger }

// InsertOpts puts the job on the trigger queue.
func (TriggerArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueTrigger} }

// ScanArgs are the arguments of a cssc-scan-image job: scan the newest
// image of a lineage and queue a patch when it has fixable
// vulnerabilities.
type ScanArgs struct {
	JobRef
	// Repository and Tag name the original image, in Registry.
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// LatestPatchTag is the lineage's newest patch when the trigger ran
	// (empty when there is none); it is what is scanned.
	LatestPatchTag string `json:"latestPatchTag,omitempty"`
	// Convention is the config's tag convention.
	Convention tags.Convention `json:"convention"`
	// ParentRunID is the trigger run.
	ParentRunID string `json:"parentRunId"`
}

// Kind returns the task name.
func (ScanArgs) Kind() string { return TaskScan }

// InsertOpts puts the job on the scan queue.
func (ScanArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueScan} }

// PatchArgs are the arguments of a cssc-patch-image job: patch the
// original image and push the next tag of the convention.
type PatchArgs struct {
	JobRef
	Repository string          `json:"repository"`
	Tag        string          `json:"tag"`
	Convention tags.Convention `json:"convention"`
	// ScannedImage is the repo:tag the scan found vulnerabilities in.
	ScannedImage string `json:"scannedImage"`
	// ParentRunID is the scan run.
	ParentRunID string `json:"parentRunId"`
}

// Kind returns the task name.
func (PatchArgs) Kind() string { return TaskPatch }

// InsertOpts puts the job on the patch queue.
func (PatchArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueuePatch} }

// workflowTag is the River job tag of every job of a workflow.
func workflowTag(workflowID string) string { return "wf-" + workflowID }

// cycleTag is the River job tag of every job of one cycle.
func cycleTag(workflowID string, cycle int64) string {
	return "wf-" + workflowID + "-c" + strconv.FormatInt(cycle, 10)
}

// insertOpts returns the options every job is inserted with: its tags and
// attempt limit (the queue comes from the args type).
func (e *Engine) insertOpts(ref JobRef) *river.InsertOpts {
	return &river.InsertOpts{
		MaxAttempts: e.opts.MaxAttempts,
		Tags:        []string{workflowTag(ref.WorkflowID), cycleTag(ref.WorkflowID, ref.Cycle)},
	}
}
