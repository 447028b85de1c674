package patch

import (
	"context"
	"log/slog"

	"github.com/patchloop/patchloop/internal/logctx"
)

// WithLogger returns ctx carrying l, the logger of one patch run, so that
// a Patcher shared by many runs (and built with its own logger) can say
// what concerns this run where the run's log is kept. It is logctx.With.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return logctx.With(ctx, l)
}

// LoggerFrom returns the logger ctx carries, or fallback when it carries
// none. It is logctx.From.
func LoggerFrom(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	return logctx.From(ctx, fallback)
}
