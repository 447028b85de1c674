package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/patchloop/patchloop/internal/store"
)

// allStatuses lists every RunStatus.
var allStatuses = []RunStatus{StatusQueued, StatusStarted, StatusRunning, StatusSucceeded, StatusFailed, StatusCanceled, StatusSkipped}

// ParseRunStatus returns the RunStatus named s, ignoring case.
func ParseRunStatus(s string) (RunStatus, error) {
	for _, st := range allStatuses {
		if strings.EqualFold(strings.TrimSpace(s), string(st)) {
			return st, nil
		}
	}
	return "", fmt.Errorf("%w: run status %q: want one of %s", ErrInvalidInput, s, strings.Join(statusNames(), ", "))
}

func statusNames() []string {
	out := make([]string, len(allStatuses))
	for i, s := range allStatuses {
		out[i] = string(s)
	}
	return out
}

// Runs lists the registry's task runs, newest first, filtered by task and
// status (any case) and limited to f.Top when it is positive.
func (e *Engine) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	host, _, err := e.checkTarget(f.Registry, "")
	if err != nil {
		return nil, err
	}
	sf := store.RunFilter{Registry: host, Task: f.Task, Limit: max(f.Top, 0)}
	switch f.Task {
	case "", TaskTrigger, TaskScan, TaskPatch:
	default:
		return nil, fmt.Errorf("%w: task %q: want %s, %s or %s", ErrInvalidInput, f.Task, TaskTrigger, TaskScan, TaskPatch)
	}
	if f.Status != "" {
		st, err := ParseRunStatus(string(f.Status))
		if err != nil {
			return nil, err
		}
		sf.Status = string(st)
	}
	rows, err := e.store.Runs(ctx, sf)
	if err != nil {
		return nil, err
	}
	out := make([]Run, len(rows))
	for i, r := range rows {
		out[i] = toRun(r)
	}
	return out, nil
}

// RunLog returns a run's log; ErrRunNotFound when there is no such run.
func (e *Engine) RunLog(ctx context.Context, id string) (string, error) {
	if _, err := e.store.Run(ctx, id); errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: %s", ErrRunNotFound, id)
	} else if err != nil {
		return "", err
	}
	return e.store.Log(ctx, id)
}
