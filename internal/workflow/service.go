// Package workflow runs continuous patching workflows: it stores workflows,
// schedules their cycles, and runs the three tasks of the reference
// (cssc-trigger-workflow, cssc-scan-image, cssc-patch-image) as River jobs,
// recording every run with its result and log in Patchloop's own tables.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/patchloop/patchloop/internal/schedule"
	"github.com/patchloop/patchloop/internal/tags"
)

// TypeContinuousPatchV1 is the only workflow type, as in the reference.
const TypeContinuousPatchV1 = "continuouspatchv1"

// Task names, as the reference names its ACR tasks.
const (
	TaskTrigger = "cssc-trigger-workflow"
	TaskScan    = "cssc-scan-image"
	TaskPatch   = "cssc-patch-image"
)

// PolicyRepository is the repository the normalized config is stored in, as
// an OCI artifact, in the workflow's registry.
const PolicyRepository = "csscpolicies/patchpolicy"

// Errors callers check with errors.Is.
var (
	ErrNotFound      = errors.New("workflow not found")
	ErrExists        = errors.New("workflow already exists")
	ErrRunNotFound   = errors.New("run not found")
	ErrInvalidInput  = errors.New("invalid input")
	ErrTooManyImages = errors.New("config selects more images than --max-images")
)

// Workflow is a stored continuous patching workflow: one per registry and type.
type Workflow struct {
	Registry      string            `json:"registry"`
	Type          string            `json:"type"`
	Schedule      schedule.Schedule `json:"-"`
	ScheduleText  string            `json:"schedule"` // "1d"
	TagConvention tags.Convention   `json:"tagConvention"`
	// Config is the normalized config JSON (config.Config.JSON).
	Config json.RawMessage `json:"config"`
	// ConfigDigest is the digest of the config artifact pushed to
	// PolicyRepository.
	ConfigDigest string    `json:"configDigest"`
	CreatedAt    time.Time `json:"createdAt"`
	CreatedBy    string    `json:"createdBy"`
	UpdatedAt    time.Time `json:"updatedAt"`
	UpdatedBy    string    `json:"updatedBy"`
	// Anchor is the time cycles count from: creation or the last schedule
	// change; cycle k runs at Anchor + k × Schedule (k ≥ 1, or k ≥ 0 with
	// run-immediately).
	Anchor    time.Time `json:"anchor"`
	NextRunAt time.Time `json:"nextRunAt"`
}

// CreateRequest creates a workflow. Config is the raw file content as the
// user wrote it; ConfigName names it in errors.
type CreateRequest struct {
	Registry       string `json:"registry"`
	Type           string `json:"type"`
	ConfigName     string `json:"configName"`
	Config         []byte `json:"config"`
	Schedule       string `json:"schedule"`
	RunImmediately bool   `json:"runImmediately"`
	By             string `json:"by"`
}

// UpdateRequest changes a workflow's config, schedule or both (nil/empty
// keeps the current one).
type UpdateRequest struct {
	Registry       string `json:"registry"`
	Type           string `json:"type"`
	ConfigName     string `json:"configName,omitempty"`
	Config         []byte `json:"config,omitempty"`
	Schedule       string `json:"schedule,omitempty"`
	RunImmediately bool   `json:"runImmediately"`
	By             string `json:"by"`
}

// DeleteResult says what a delete could not remove.
type DeleteResult struct {
	// PolicyRepositoryKept explains why the emptied PolicyRepository is
	// still listed by the registry; empty when it is gone.
	PolicyRepositoryKept string `json:"policyRepositoryKept,omitempty"`
}

// RunStatus is the state of one task run.
type RunStatus string

// Run states. Skipped counts as successful, as in the reference.
const (
	StatusQueued    RunStatus = "Queued"
	StatusStarted   RunStatus = "Started"
	StatusRunning   RunStatus = "Running"
	StatusSucceeded RunStatus = "Succeeded"
	StatusFailed    RunStatus = "Failed"
	StatusCanceled  RunStatus = "Canceled"
	StatusSkipped   RunStatus = "Skipped"
)

// Run is one execution of a task.
type Run struct {
	ID         string     `json:"id"` // short, e.g. "ab12cd"
	Task       string     `json:"task"`
	Registry   string     `json:"registry"`
	Type       string     `json:"type"`
	Cycle      int64      `json:"cycle"`           // which cycle of the workflow
	Image      string     `json:"image,omitempty"` // repo:tag of the original
	ParentID   string     `json:"parentId,omitempty"`
	Status     RunStatus  `json:"status"`
	CreatedAt  time.Time  `json:"createdAt"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	Result     RunResult  `json:"result"`
	Error      string     `json:"error,omitempty"`
}

// RunResult is what a run found or produced.
type RunResult struct {
	ScannedImage    string `json:"scannedImage,omitempty"` // repo:tag actually scanned
	Vulnerabilities int    `json:"vulnerabilities,omitempty"`
	Fixable         int    `json:"fixable,omitempty"`
	PatchedImage    string `json:"patchedImage,omitempty"` // repo:tag pushed
	PatchedDigest   string `json:"patchedDigest,omitempty"`
	SkippedReason   string `json:"skippedReason,omitempty"`
	Images          int    `json:"images,omitempty"` // trigger: scans queued
	// Severities counts the scanned image's vulnerabilities by severity
	// (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN): scan and patch runs. Empty
	// (not absent) when the image has none; absent in runs from before it
	// was recorded.
	Severities map[string]int `json:"severities,omitzero"`
	// SeveritiesAfter counts, by severity, the vulnerabilities the patched
	// image still has: patch runs that pushed an image.
	SeveritiesAfter map[string]int `json:"severitiesAfter,omitzero"`
	// Signed lists the signature schemes ("cosign", "notation") the
	// patched image was signed with after its push; empty when unsigned.
	Signed []string `json:"signed,omitempty"`
	// Attachments counts the referrers attached to the patched image.
	Attachments int `json:"attachments,omitempty"`
}

// ImageStatus is one block of `workflow list`: the latest scan and patch
// runs of an original image and its last patched image.
type ImageStatus struct {
	Image            string `json:"image"` // repo:tag
	WorkflowType     string `json:"workflowType"`
	Scan             *Run   `json:"scan,omitempty"`
	Patch            *Run   `json:"patch,omitempty"`
	LastPatchedImage string `json:"lastPatchedImage,omitempty"` // repo:tag, empty when none
	SkippedReason    string `json:"skippedReason,omitempty"`
}

// RunFilter selects runs for `task list-runs`.
type RunFilter struct {
	Registry string    `json:"registry"`
	Task     string    `json:"task,omitempty"`
	Status   RunStatus `json:"status,omitempty"`
	Top      int       `json:"top,omitempty"`
}

// Service is what the HTTP API exposes and the CLI drives.
type Service interface {
	// Create validates, pushes the config artifact, stores the workflow
	// and schedules its first cycle; ErrExists when it already exists.
	Create(ctx context.Context, req CreateRequest) (*Workflow, error)
	// Update changes config and/or schedule; ErrNotFound when absent.
	Update(ctx context.Context, req UpdateRequest) (*Workflow, error)
	// Get returns a workflow; ErrNotFound when absent.
	Get(ctx context.Context, registry, typ string) (*Workflow, error)
	// Delete cancels queued and running tasks, deletes the config
	// artifact's repository and removes the workflow. Patched images stay.
	Delete(ctx context.Context, registry, typ string) (*DeleteResult, error)
	// Images lists the per-image status blocks of `workflow list`;
	// status filters by failed, successful or running (or a RunStatus).
	Images(ctx context.Context, registry, status string) ([]ImageStatus, error)
	// CancelRuns cancels every queued, started or running task of the
	// workflow and returns how many were canceled.
	CancelRuns(ctx context.Context, registry, typ string) (int, error)
	// Runs lists task runs, newest first.
	Runs(ctx context.Context, f RunFilter) ([]Run, error)
	// RunLog returns a run's full log; ErrRunNotFound when absent.
	RunLog(ctx context.Context, id string) (string, error)
	// Workflows lists the workflows of every registry.
	Workflows(ctx context.Context) ([]Workflow, error)
}
