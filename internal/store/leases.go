package store

import (
	"context"
	"fmt"
	"time"
)

// A run being worked on is leased: the attempt that claims it (ClaimRun)
// becomes its owner and renews heartbeat_at (Heartbeat) while it works.
// A lease whose heartbeat is older than a timeout has lapsed: its owner is
// presumed dead, and the run may be claimed again (ClaimRun) or released
// by a sweeper (ReleaseRun). Lease times come from the database's clock,
// so processes on hosts whose clocks differ agree on them.

// nowMicro is the database's current time in Unix microseconds, as SQL.
func (s *Store) nowMicro() string {
	if s.db.Dialect() == Postgres {
		return `CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)`
	}
	return `CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)`
}

// lapsed is the condition "the lease's heartbeat is older than ? µs".
func (s *Store) lapsed() string {
	return `(heartbeat_at IS NULL OR heartbeat_at <= ` + s.nowMicro() + ` - ?)`
}

// Now returns the database's clock.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	var us int64
	if err := s.q.QueryRow(ctx, `SELECT `+s.nowMicro()).Scan(&us); err != nil {
		return time.Time{}, fmt.Errorf("database time: %w", err)
	}
	return fromMicro(us), nil
}

// ClaimRun makes owner the holder of a run and moves it to status
// running, counting an attempt, when the run's status is one of from or
// it is running under a lease that lapsed more than timeout ago. jobID is
// the River job of the attempt. It returns false when the run is in
// another state or another owner's lease is alive.
func (s *Store) ClaimRun(ctx context.Context, id string, from []string, running, owner string, jobID int64, timeout time.Duration, now time.Time) (bool, error) {
	in, args := placeholders(from)
	n, err := s.q.Exec(ctx, `UPDATE patchloop_run
		SET status = ?, owner = ?, job_id = ?, heartbeat_at = `+s.nowMicro()+`, started_at = COALESCE(started_at, ?), attempts = attempts + 1
		WHERE id = ? AND (status IN (`+in+`) OR (status = ? AND `+s.lapsed()+`))`,
		append(append([]any{running, owner, jobID, micro(now), id}, args...), running, timeout.Microseconds())...)
	if err != nil {
		return false, fmt.Errorf("claim run %s: %w", id, err)
	}
	return n == 1, nil
}

// Heartbeat renews owner's lease on a running run; false means the lease
// is no longer owner's (it lapsed and was released or claimed again, or
// the run was canceled).
func (s *Store) Heartbeat(ctx context.Context, id, owner, running string) (bool, error) {
	n, err := s.q.Exec(ctx, `UPDATE patchloop_run SET heartbeat_at = `+s.nowMicro()+`
		WHERE id = ? AND owner = ? AND status = ?`, id, owner, running)
	if err != nil {
		return false, fmt.Errorf("heartbeat of run %s: %w", id, err)
	}
	return n == 1, nil
}

// SetPushing records, under owner's lease (which it renews), what a run
// is about to push; false means the lease is no longer owner's and
// nothing may be pushed.
func (s *Store) SetPushing(ctx context.Context, id, owner, running, pushing string) (bool, error) {
	n, err := s.q.Exec(ctx, `UPDATE patchloop_run SET pushing = ?, heartbeat_at = `+s.nowMicro()+`
		WHERE id = ? AND owner = ? AND status = ?`, pushing, id, owner, running)
	if err != nil {
		return false, fmt.Errorf("record the push of run %s: %w", id, err)
	}
	return n == 1, nil
}

// LapsedRuns returns the runs in status running whose lease lapsed more
// than timeout ago (timeout 0: every running run).
func (s *Store) LapsedRuns(ctx context.Context, running string, timeout time.Duration) ([]*Run, error) {
	return s.runs(ctx, `SELECT `+runColumns+leaseColumns+` FROM patchloop_run
		WHERE status = ? AND `+s.lapsed()+` ORDER BY id`, running, timeout.Microseconds())
}

// ReleaseRun ends owner's lapsed lease on a running run: the run moves to
// status (queued again, or failed with finishedAt set) with errText. It
// returns false when the lease is alive again or no longer owner's.
func (s *Store) ReleaseRun(ctx context.Context, id, owner, running string, timeout time.Duration, status, errText string, finishedAt *time.Time) (bool, error) {
	n, err := s.q.Exec(ctx, `UPDATE patchloop_run SET status = ?, error = ?, finished_at = ?, owner = ''
		WHERE id = ? AND owner = ? AND status = ? AND `+s.lapsed(),
		status, errText, nullMicro(finishedAt), id, owner, running, timeout.Microseconds())
	if err != nil {
		return false, fmt.Errorf("release run %s: %w", id, err)
	}
	return n == 1, nil
}
