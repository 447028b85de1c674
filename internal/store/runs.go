package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Run is one stored task run. Status holds a workflow.RunStatus; the
// store compares it only with the status lists its callers pass.
type Run struct {
	ID         string
	WorkflowID string
	Task       string
	Registry   string
	Type       string
	Cycle      int64
	Image      string
	ParentID   string
	Status     string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	Result     []byte // JSON
	Error      string
	Attempts   int64
}

const runColumns = `id, workflow_id, task, registry, type, cycle, image, parent_id, status,
	created_at, started_at, finished_at, result, error, attempts`

func scanRun(r interface{ Scan(...any) error }) (*Run, error) {
	var run Run
	var created int64
	var started, finished *int64
	var result string
	err := r.Scan(&run.ID, &run.WorkflowID, &run.Task, &run.Registry, &run.Type, &run.Cycle, &run.Image, &run.ParentID, &run.Status,
		&created, &started, &finished, &result, &run.Error, &run.Attempts)
	if err != nil {
		return nil, err
	}
	run.CreatedAt = fromMicro(created)
	if started != nil {
		t := fromMicro(*started)
		run.StartedAt = &t
	}
	if finished != nil {
		t := fromMicro(*finished)
		run.FinishedAt = &t
	}
	run.Result = []byte(result)
	return &run, nil
}

// errIDTaken says a new run's random ID is already used.
var errIDTaken = errors.New("run ID taken")

// InsertRun inserts r and returns true, or returns false when the
// workflow already has a run of the task for the image in that cycle.
// When r's random ID is taken, newID gives another.
func (s *Store) InsertRun(ctx context.Context, r *Run, newID func() string) (bool, error) {
	for range 8 {
		ok, err := s.insertRun(ctx, r)
		if errors.Is(err, errIDTaken) {
			r.ID = newID()
			continue
		}
		return ok, err
	}
	return false, fmt.Errorf("insert run: %w", errIDTaken)
}

func (s *Store) insertRun(ctx context.Context, r *Run) (bool, error) {
	result := string(r.Result)
	if result == "" {
		result = "{}"
	}
	n, err := s.q.Exec(ctx, `INSERT INTO patchloop_run (`+runColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		r.ID, r.WorkflowID, r.Task, r.Registry, r.Type, r.Cycle, r.Image, r.ParentID, r.Status,
		micro(r.CreatedAt), nullMicro(r.StartedAt), nullMicro(r.FinishedAt), result, r.Error, r.Attempts)
	if err != nil {
		return false, fmt.Errorf("insert run: %w", err)
	}
	if n == 1 {
		return true, nil
	}
	var cnt int64
	err = s.q.QueryRow(ctx, `SELECT COUNT(*) FROM patchloop_run
		WHERE workflow_id = ? AND cycle = ? AND task = ? AND image = ?`, r.WorkflowID, r.Cycle, r.Task, r.Image).Scan(&cnt)
	if err != nil {
		return false, fmt.Errorf("insert run: %w", err)
	}
	if cnt == 0 {
		return false, errIDTaken
	}
	return false, nil
}

// Run returns a run by ID.
func (s *Store) Run(ctx context.Context, id string) (*Run, error) {
	r, err := scanRun(s.q.QueryRow(ctx, `SELECT `+runColumns+` FROM patchloop_run WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "run "+id)
	}
	return r, nil
}

// placeholders returns "?, ?, …" for n values and the values as []any.
func placeholders(vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", "), args
}

// StartRun moves a run whose status is one of from to status, counting an
// attempt. It returns false when the run is in another state.
func (s *Store) StartRun(ctx context.Context, id string, from []string, status string, now time.Time) (bool, error) {
	in, args := placeholders(from)
	n, err := s.q.Exec(ctx, `UPDATE patchloop_run SET status = ?, started_at = COALESCE(started_at, ?), attempts = attempts + 1
		WHERE id = ? AND status IN (`+in+`)`, append([]any{status, micro(now), id}, args...)...)
	if err != nil {
		return false, fmt.Errorf("start run %s: %w", id, err)
	}
	return n == 1, nil
}

// FinishRun sets the final status, result and error of a run whose status
// is one of from; it returns false when the run is in another state (for
// example canceled meanwhile).
func (s *Store) FinishRun(ctx context.Context, id string, from []string, status string, result []byte, errText string, now time.Time) (bool, error) {
	in, args := placeholders(from)
	if len(result) == 0 {
		result = []byte("{}")
	}
	n, err := s.q.Exec(ctx, `UPDATE patchloop_run SET status = ?, finished_at = ?, result = ?, error = ?
		WHERE id = ? AND status IN (`+in+`)`, append([]any{status, micro(now), string(result), errText, id}, args...)...)
	if err != nil {
		return false, fmt.Errorf("finish run %s: %w", id, err)
	}
	return n == 1, nil
}

// RequeueRun puts a run whose status is one of from back to status (an
// attempt that will be retried), keeping the error that stopped it.
func (s *Store) RequeueRun(ctx context.Context, id string, from []string, status, errText string) (bool, error) {
	in, args := placeholders(from)
	n, err := s.q.Exec(ctx, `UPDATE patchloop_run SET status = ?, error = ?
		WHERE id = ? AND status IN (`+in+`)`, append([]any{status, errText, id}, args...)...)
	if err != nil {
		return false, fmt.Errorf("requeue run %s: %w", id, err)
	}
	return n == 1, nil
}

// CancelRuns sets every run of a workflow whose status is one of from to
// status and returns how many changed.
func (s *Store) CancelRuns(ctx context.Context, workflowID string, from []string, status string, now time.Time) (int64, error) {
	in, args := placeholders(from)
	n, err := s.q.Exec(ctx, `UPDATE patchloop_run SET status = ?, finished_at = ?
		WHERE workflow_id = ? AND status IN (`+in+`)`, append([]any{status, micro(now), workflowID}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("cancel runs: %w", err)
	}
	return n, nil
}

// CountRuns counts the runs of a registry whose status is one of
// statuses.
func (s *Store) CountRuns(ctx context.Context, registry string, statuses []string) (int64, error) {
	in, args := placeholders(statuses)
	var n int64
	err := s.q.QueryRow(ctx, `SELECT COUNT(*) FROM patchloop_run WHERE registry = ? AND status IN (`+in+`)`,
		append([]any{registry}, args...)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count runs: %w", err)
	}
	return n, nil
}

// RunFilter selects runs.
type RunFilter struct {
	Registry   string // required
	WorkflowID string
	Task       string
	Status     string
	Limit      int // 0: no limit
}

// Runs lists runs, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]*Run, error) {
	q := `SELECT ` + runColumns + ` FROM patchloop_run WHERE registry = ?`
	args := []any{f.Registry}
	if f.WorkflowID != "" {
		q += ` AND workflow_id = ?`
		args = append(args, f.WorkflowID)
	}
	if f.Task != "" {
		q += ` AND task = ?`
		args = append(args, f.Task)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return s.runs(ctx, q, args...)
}

// LatestRuns returns, per image, the run of a task of a workflow in the
// latest cycle that has one, ordered by image.
func (s *Store) LatestRuns(ctx context.Context, workflowID, task string) ([]*Run, error) {
	return s.runs(ctx, `SELECT `+runColumns+` FROM (
			SELECT *, ROW_NUMBER() OVER (PARTITION BY image ORDER BY cycle DESC) AS rn
			FROM patchloop_run WHERE workflow_id = ? AND task = ?) latest
		WHERE rn = 1 ORDER BY image`, workflowID, task)
}

// LatestRunsWithStatus returns, per image, the newest run of a task in a
// registry with the given status, across workflows old and current.
func (s *Store) LatestRunsWithStatus(ctx context.Context, registry, task, status string) ([]*Run, error) {
	return s.runs(ctx, `SELECT `+runColumns+` FROM (
			SELECT *, ROW_NUMBER() OVER (PARTITION BY image ORDER BY created_at DESC, id DESC) AS rn
			FROM patchloop_run WHERE registry = ? AND task = ? AND status = ?) latest
		WHERE rn = 1 ORDER BY image`, registry, task, status)
}

func (s *Store) runs(ctx context.Context, query string, args ...any) ([]*Run, error) {
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []*Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}
