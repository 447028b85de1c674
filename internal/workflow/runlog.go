package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/patchloop/patchloop/internal/redact"
	"github.com/patchloop/patchloop/internal/store"
)

// runLog collects the log lines of one task attempt until they are
// stored. It is the io.Writer of a slog.TextHandler, which writes one
// record per Write.
type runLog struct {
	mu    sync.Mutex
	lines []store.LogLine
	// flushing serializes flushes, which number lines after those stored.
	flushing sync.Mutex
}

// Write adds one line per line of p.
func (l *runLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		l.lines = append(l.lines, store.LogLine{At: now, Text: redact.String(line)})
	}
	return len(p), nil
}

// take returns the lines collected since the last take.
func (l *runLog) take() []store.LogLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// newRunLogger returns a logger that writes to the engine's logger, with
// attrs, and to buf, without them.
func newRunLogger(base *slog.Logger, buf *runLog, attrs ...slog.Attr) *slog.Logger {
	return slog.New(slog.NewMultiHandler(
		base.Handler().WithAttrs(attrs),
		slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}),
	))
}

// flushLog stores the lines a task logged so far; a failure to store them
// is logged, not returned: the run's outcome matters more.
func (e *Engine) flushLog(ctx context.Context, runID string, buf *runLog) {
	buf.flushing.Lock()
	defer buf.flushing.Unlock()
	lines := buf.take()
	if len(lines) == 0 {
		return
	}
	if err := e.store.AppendLog(ctx, runID, lines); err != nil {
		e.log.WarnContext(ctx, "storing run log", "run", runID, "error", err)
	}
}

// logFlushInterval is how often a running task's log is stored, so that
// RunLog shows the progress of long patches.
const logFlushInterval = 5 * time.Second

// leaseLoop renews a task's lease every HeartbeatInterval and stores its
// log every logFlushInterval, until stop closes. A task whose lease is
// gone, or that could not renew it for half the lease timeout (the
// database is unreachable), is canceled: by then a sweeper may be about
// to hand its run to another attempt.
func (e *Engine) leaseLoop(ctx context.Context, t *task, stop <-chan struct{}) {
	ticker := time.NewTicker(e.opts.HeartbeatInterval)
	defer ticker.Stop()
	renewed, flushed := time.Now(), time.Now()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		ok, err := e.store.Heartbeat(ctx, t.ref.RunID, t.owner, string(StatusRunning))
		switch {
		case err == nil && ok:
			renewed = time.Now()
		case err == nil:
			cause := t.whyNotHeld(ctx, e.store)
			if !errors.Is(cause, errCanceled) {
				cause = errLeaseLost
			}
			t.cancel(cause)
			return
		case time.Since(renewed) > e.opts.LeaseTimeout/2:
			t.log.ErrorContext(ctx, "cannot renew the lease on the run; stopping", "error", err)
			t.cancel(fmt.Errorf("%w: %w", errLeaseLost, err))
			return
		default:
			e.log.WarnContext(ctx, "renewing the lease on a run", "run", t.ref.RunID, "error", err)
		}
		if time.Since(flushed) >= logFlushInterval {
			e.flushLog(ctx, t.ref.RunID, t.buf)
			flushed = time.Now()
		}
	}
}
