// Package api holds the types of Patchloop's HTTP API: the requests,
// responses and statuses the service (internal/server), its client
// (internal/client) and the dashboard exchange, the Service interface they
// are exchanged over, and the sentinel errors and codes that carry
// errors.Is across HTTP. It imports only the standard library, so a program
// that only calls the API links none of the engine (River, SQLite, bbolt).
// docs/api.md describes the wire format.
package api

import (
	"context"
	"encoding/json"
	"time"
)

// TypeContinuousPatchV1 is the only workflow type, as in the reference.
const TypeContinuousPatchV1 = "continuouspatchv1"

// Task names, as the reference names its ACR tasks.
const (
	TaskTrigger = "cssc-trigger-workflow"
	TaskScan    = "cssc-scan-image"
	TaskPatch   = "cssc-patch-image"
)

// TokenFile is the name of the API token's file in the service's data
// directory, where `patchloop serve` writes it and the client reads it.
const TokenFile = "token"

// Workflow is a stored continuous patching workflow: one per registry and type.
type Workflow struct {
	Registry string `json:"registry"`
	Type     string `json:"type"`
	// ScheduleText is the cadence, "Nd" (schedule.Parse reads it).
	ScheduleText string `json:"schedule"`
	// TagConvention is "incremental" or "floating" (a tags.Convention).
	TagConvention string `json:"tagConvention"`
	// Config is the normalized config JSON (config.Config.JSON).
	Config json.RawMessage `json:"config"`
	// ConfigDigest is the digest of the config artifact pushed to the
	// policy repository.
	ConfigDigest string    `json:"configDigest"`
	CreatedAt    time.Time `json:"createdAt"`
	CreatedBy    string    `json:"createdBy"`
	UpdatedAt    time.Time `json:"updatedAt"`
	UpdatedBy    string    `json:"updatedBy"`
	// Anchor is the time cycles count from: creation or the last schedule
	// change; cycle k runs at Anchor + k × schedule (k ≥ 1, or k ≥ 0 with
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
	// PolicyRepositoryKept explains why the emptied policy repository is
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

// CancelResponse is the body of POST /v1/workflows/{registry}/{type}/cancel.
type CancelResponse struct {
	// Canceled is how many queued, started or running task runs were
	// canceled.
	Canceled int `json:"canceled"`
}

// Health is the body of GET /healthz.
type Health struct {
	Status string `json:"status"` // "ok"
}

// Service is what the HTTP API exposes and the CLI drives: the engine
// (internal/workflow) implements it in-process, the client over HTTP.
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
