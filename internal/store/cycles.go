package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ClaimCycle records that cycle starts now. Exactly one caller per
// workflow and cycle gets true, however many processes try at once; the
// others get false.
func (s *Store) ClaimCycle(ctx context.Context, workflowID string, cycle int64, due, now time.Time, by string) (bool, error) {
	n, err := s.q.Exec(ctx, `INSERT INTO patchloop_cycle (workflow_id, cycle, due_at, started_at, started_by)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, workflowID, cycle, micro(due), micro(now), by)
	if err != nil {
		return false, fmt.Errorf("claim cycle %d: %w", cycle, err)
	}
	return n == 1, nil
}

// LastCycle returns the highest claimed cycle of a workflow, or false when
// none was claimed.
func (s *Store) LastCycle(ctx context.Context, workflowID string) (int64, bool, error) {
	var cnt, last int64
	err := s.q.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(cycle), 0) FROM patchloop_cycle WHERE workflow_id = ?`, workflowID).Scan(&cnt, &last)
	if err != nil {
		return 0, false, fmt.Errorf("last cycle: %w", err)
	}
	return last, cnt > 0, nil
}

// CancelCycles marks every cycle of a workflow started so far as canceled:
// their tasks queue no further work. Later cycles run as usual.
func (s *Store) CancelCycles(ctx context.Context, workflowID string, now time.Time) error {
	_, err := s.q.Exec(ctx, `UPDATE patchloop_cycle SET canceled_at = ? WHERE workflow_id = ? AND canceled_at IS NULL`, micro(now), workflowID)
	if err != nil {
		return fmt.Errorf("cancel cycles: %w", err)
	}
	return nil
}

// CycleCanceled reports whether a cycle was canceled, or no longer exists
// (its workflow was deleted).
func (s *Store) CycleCanceled(ctx context.Context, workflowID string, cycle int64) (bool, error) {
	var canceled *int64
	err := s.q.QueryRow(ctx, `SELECT canceled_at FROM patchloop_cycle WHERE workflow_id = ? AND cycle = ?`, workflowID, cycle).Scan(&canceled)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("cycle %d: %w", cycle, err)
	}
	return canceled != nil, nil
}
