package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// LogLine is one line of a run's log.
type LogLine struct {
	At   time.Time
	Text string
}

// AppendLog appends lines to a run's log. Lines are numbered after those
// already stored, so a retried run's attempts follow one another.
func (s *Store) AppendLog(ctx context.Context, runID string, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	var last int64
	if err := s.q.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM patchloop_run_log WHERE run_id = ?`, runID).Scan(&last); err != nil {
		return fmt.Errorf("append run log: %w", err)
	}
	// A few hundred rows per statement stay far below SQLite's limit of
	// bound parameters.
	const chunk = 200
	for start := 0; start < len(lines); start += chunk {
		part := lines[start:min(start+chunk, len(lines))]
		args := make([]any, 0, 4*len(part))
		for i, l := range part {
			args = append(args, runID, last+int64(start+i)+1, micro(l.At), l.Text)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(part)), ", ")
		if _, err := s.q.Exec(ctx, `INSERT INTO patchloop_run_log (run_id, seq, at, line) VALUES `+values, args...); err != nil {
			return fmt.Errorf("append run log: %w", err)
		}
	}
	return nil
}

// Log returns a run's log, one line per stored line, each ending in a
// newline.
func (s *Store) Log(ctx context.Context, runID string) (string, error) {
	rows, err := s.q.Query(ctx, `SELECT line FROM patchloop_run_log WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return "", fmt.Errorf("read run log: %w", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", fmt.Errorf("read run log: %w", err)
		}
		b.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read run log: %w", err)
	}
	return b.String(), nil
}
