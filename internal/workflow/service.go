// Package workflow runs continuous patching workflows: it stores workflows,
// schedules their cycles, and runs the three tasks of the reference
// (cssc-trigger-workflow, cssc-scan-image, cssc-patch-image) as River jobs,
// recording every run with its result and log in Patchloop's own tables.
//
// The types of its Service (requests, workflows, runs, errors) are those of
// the HTTP API, defined in internal/api and aliased here.
package workflow

import "github.com/patchloop/patchloop/internal/api"

// TypeContinuousPatchV1 is the only workflow type, as in the reference.
const TypeContinuousPatchV1 = api.TypeContinuousPatchV1

// Task names, as the reference names its ACR tasks.
const (
	TaskTrigger = api.TaskTrigger
	TaskScan    = api.TaskScan
	TaskPatch   = api.TaskPatch
)

// PolicyRepository is the repository the normalized config is stored in, as
// an OCI artifact, in the workflow's registry.
const PolicyRepository = "csscpolicies/patchpolicy"

// Errors callers check with errors.Is (api's, so they survive HTTP).
var (
	ErrNotFound      = api.ErrNotFound
	ErrExists        = api.ErrExists
	ErrRunNotFound   = api.ErrRunNotFound
	ErrInvalidInput  = api.ErrInvalidInput
	ErrTooManyImages = api.ErrTooManyImages
)

// The API's types, under the names the engine has always used.
type (
	// Workflow is a stored continuous patching workflow.
	Workflow = api.Workflow
	// CreateRequest creates a workflow.
	CreateRequest = api.CreateRequest
	// UpdateRequest changes a workflow's config, schedule or both.
	UpdateRequest = api.UpdateRequest
	// DeleteResult says what a delete could not remove.
	DeleteResult = api.DeleteResult
	// RunStatus is the state of one task run.
	RunStatus = api.RunStatus
	// Run is one execution of a task.
	Run = api.Run
	// RunResult is what a run found or produced.
	RunResult = api.RunResult
	// ImageStatus is one block of `workflow list`.
	ImageStatus = api.ImageStatus
	// RunFilter selects runs for `task list-runs`.
	RunFilter = api.RunFilter
	// Service is what the HTTP API exposes and the CLI drives.
	Service = api.Service
)

// Run states. Skipped counts as successful, as in the reference.
const (
	StatusQueued    = api.StatusQueued
	StatusStarted   = api.StatusStarted
	StatusRunning   = api.StatusRunning
	StatusSucceeded = api.StatusSucceeded
	StatusFailed    = api.StatusFailed
	StatusCanceled  = api.StatusCanceled
	StatusSkipped   = api.StatusSkipped
)
