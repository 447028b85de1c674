// Package logctx carries the logger of one unit of work (a task run, a CLI
// command) in a context.Context, so that code shared by many runs at once
// (the scanner, the patchers, the registry and repository clients) logs
// each line where the run it works for keeps its log. It is a leaf: it
// imports only the standard library.
package logctx

import (
	"context"
	"log/slog"
)

type key struct{}

// With returns ctx carrying l. Everything below ctx that logs through From
// writes to l, and concurrent runs with their own contexts never see each
// other's lines.
func With(ctx context.Context, l *slog.Logger) context.Context {
	if l == nil {
		return ctx
	}
	return context.WithValue(ctx, key{}, l)
}

// From returns the logger ctx carries, else fallback, else slog.Default().
func From(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok {
		return l
	}
	if fallback != nil {
		return fallback
	}
	return slog.Default()
}
