package store

import (
	"context"
	"fmt"
	"time"
)

// Workflow is a stored workflow. Cycle n (n ≥ FirstCycle) is due at
// AnchorAt + (n − AnchorCycle) × the schedule's interval; NextRunAt is
// when the next unclaimed one is due.
type Workflow struct {
	ID           string
	Registry     string
	Type         string
	Schedule     string // "1d"
	Config       []byte // normalized JSON
	ConfigDigest string
	CreatedAt    time.Time
	CreatedBy    string
	UpdatedAt    time.Time
	UpdatedBy    string
	AnchorAt     time.Time
	AnchorCycle  int64
	FirstCycle   int64
	NextRunAt    time.Time
}

const workflowColumns = `id, registry, type, schedule, config, config_digest, created_at, created_by,
	updated_at, updated_by, anchor_at, anchor_cycle, first_cycle, next_run_at`

func scanWorkflow(r interface{ Scan(...any) error }) (*Workflow, error) {
	var w Workflow
	var config string
	var created, updated, anchor, next int64
	err := r.Scan(&w.ID, &w.Registry, &w.Type, &w.Schedule, &config, &w.ConfigDigest, &created, &w.CreatedBy,
		&updated, &w.UpdatedBy, &anchor, &w.AnchorCycle, &w.FirstCycle, &next)
	if err != nil {
		return nil, err
	}
	w.Config = []byte(config)
	w.CreatedAt, w.UpdatedAt, w.AnchorAt, w.NextRunAt = fromMicro(created), fromMicro(updated), fromMicro(anchor), fromMicro(next)
	return &w, nil
}

// CreateWorkflow inserts w; it returns false when a workflow of the same
// registry and type exists.
func (s *Store) CreateWorkflow(ctx context.Context, w *Workflow) (bool, error) {
	n, err := s.q.Exec(ctx, `INSERT INTO patchloop_workflow (`+workflowColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		w.ID, w.Registry, w.Type, w.Schedule, string(w.Config), w.ConfigDigest, micro(w.CreatedAt), w.CreatedBy,
		micro(w.UpdatedAt), w.UpdatedBy, micro(w.AnchorAt), w.AnchorCycle, w.FirstCycle, micro(w.NextRunAt))
	if err != nil {
		return false, fmt.Errorf("create workflow: %w", err)
	}
	return n == 1, nil
}

// UpdateWorkflow writes every field of w but its ID, registry, type and
// creation.
func (s *Store) UpdateWorkflow(ctx context.Context, w *Workflow) error {
	n, err := s.q.Exec(ctx, `UPDATE patchloop_workflow SET schedule = ?, config = ?, config_digest = ?,
		updated_at = ?, updated_by = ?, anchor_at = ?, anchor_cycle = ?, first_cycle = ?, next_run_at = ?
		WHERE id = ?`,
		w.Schedule, string(w.Config), w.ConfigDigest, micro(w.UpdatedAt), w.UpdatedBy,
		micro(w.AnchorAt), w.AnchorCycle, w.FirstCycle, micro(w.NextRunAt), w.ID)
	if err != nil {
		return fmt.Errorf("update workflow: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("update workflow: %w", ErrNotFound)
	}
	return nil
}

// FollowConfig records the config a cycle read from the workflow's config
// artifact: the service's copy follows the artifact. Nothing else of the
// workflow changes.
func (s *Store) FollowConfig(ctx context.Context, id string, config []byte, digest string) error {
	n, err := s.q.Exec(ctx, `UPDATE patchloop_workflow SET config = ?, config_digest = ? WHERE id = ?`, string(config), digest, id)
	if err != nil {
		return fmt.Errorf("update workflow config: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("update workflow config: %w", ErrNotFound)
	}
	return nil
}

// Workflow returns the workflow of a registry and type.
func (s *Store) Workflow(ctx context.Context, registry, typ string) (*Workflow, error) {
	w, err := scanWorkflow(s.q.QueryRow(ctx, `SELECT `+workflowColumns+` FROM patchloop_workflow
		WHERE registry = ? AND type = ?`, registry, typ))
	if err != nil {
		return nil, notFound(err, "workflow")
	}
	return w, nil
}

// WorkflowByID returns a workflow by its ID.
func (s *Store) WorkflowByID(ctx context.Context, id string) (*Workflow, error) {
	w, err := scanWorkflow(s.q.QueryRow(ctx, `SELECT `+workflowColumns+` FROM patchloop_workflow WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "workflow")
	}
	return w, nil
}

// Workflows lists the workflows of a registry, or of every registry when
// registry is empty.
func (s *Store) Workflows(ctx context.Context, registry string) ([]*Workflow, error) {
	return s.workflows(ctx, `SELECT `+workflowColumns+` FROM patchloop_workflow
		WHERE ? = '' OR registry = ? ORDER BY registry, type`, registry, registry)
}

// DueWorkflows lists the workflows whose next cycle is due at now.
func (s *Store) DueWorkflows(ctx context.Context, now time.Time) ([]*Workflow, error) {
	return s.workflows(ctx, `SELECT `+workflowColumns+` FROM patchloop_workflow
		WHERE next_run_at <= ? ORDER BY next_run_at`, micro(now))
}

func (s *Store) workflows(ctx context.Context, query string, args ...any) ([]*Workflow, error) {
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	defer rows.Close()
	var out []*Workflow
	for rows.Next() {
		w, err := scanWorkflow(rows)
		if err != nil {
			return nil, fmt.Errorf("list workflows: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	return out, nil
}

// AdvanceWorkflow moves the next run of a workflow to next and reports
// whether it did: it does not when its anchor moved since it was read (an
// update changed the schedule) or when next_run_at is already at next or
// later.
func (s *Store) AdvanceWorkflow(ctx context.Context, id string, anchor, next time.Time) (bool, error) {
	n, err := s.q.Exec(ctx, `UPDATE patchloop_workflow SET next_run_at = ?
		WHERE id = ? AND anchor_at = ? AND next_run_at < ?`, micro(next), id, micro(anchor), micro(next))
	if err != nil {
		return false, fmt.Errorf("advance workflow: %w", err)
	}
	return n == 1, nil
}

// DeleteWorkflow removes a workflow and its cycles; its runs stay as
// history.
func (s *Store) DeleteWorkflow(ctx context.Context, id string) error {
	if _, err := s.q.Exec(ctx, `DELETE FROM patchloop_cycle WHERE workflow_id = ?`, id); err != nil {
		return fmt.Errorf("delete workflow cycles: %w", err)
	}
	n, err := s.q.Exec(ctx, `DELETE FROM patchloop_workflow WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete workflow: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delete workflow: %w", ErrNotFound)
	}
	return nil
}
