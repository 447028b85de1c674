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

// newRunLogger returns the logger of one task attempt: a handler that fans
// each record out to the engine's logger (the serve log, at its level),
// with attrs (run_id, image, attempt…), and to buf, the run's own log, at
// info level and without them (the run is the log's subject). Nothing else
// writes to buf, so concurrent runs never see each other's lines.
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

// quietHandler passes warnings and errors on as they are and everything
// below as debug: River's own chatter (migrations applied, producer
// counts) is for whoever debugs the queue, not the serve log at info.
type quietHandler struct{ next slog.Handler }

// riverLogger returns log for River: its info lines at debug level.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(quietHandler{log.Handler()}).With("component", "river")
}

func (h quietHandler) level(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, h.level(l))
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = h.level(r.Level)
	return h.next.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.next.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.next.WithGroup(name)}
}
