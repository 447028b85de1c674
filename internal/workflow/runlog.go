package workflow

import (
	"context"
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

// flushLoop stores a task's log every logFlushInterval until stop closes.
func (e *Engine) flushLoop(ctx context.Context, runID string, buf *runLog, stop <-chan struct{}) {
	ticker := time.NewTicker(logFlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			e.flushLog(ctx, runID, buf)
		}
	}
}
