package logctx

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestWithFrom(t *testing.T) {
	var a, b bytes.Buffer
	la := slog.New(slog.NewTextHandler(&a, nil))
	lb := slog.New(slog.NewTextHandler(&b, nil))
	ctx := context.Background()
	if From(ctx, la) != la {
		t.Error("an empty context does not give the fallback")
	}
	if From(ctx, nil) != slog.Default() {
		t.Error("no fallback does not give slog.Default()")
	}
	if With(ctx, nil) != ctx {
		t.Error("With(nil) changed the context")
	}
	runA, runB := With(ctx, la), With(ctx, lb)
	From(runA, lb).Info("line of a")
	From(runB, la).Info("line of b")
	if !strings.Contains(a.String(), "line of a") || strings.Contains(a.String(), "line of b") ||
		!strings.Contains(b.String(), "line of b") || strings.Contains(b.String(), "line of a") {
		t.Errorf("a:\n%s\nb:\n%s", a.String(), b.String())
	}
}
