package rpm_test

import (
	"log/slog"
	"os"
)

// benchLog logs the patcher's phases on stderr when BENCHLOG is set
// (docs/benchmarks.md), else nothing.
var benchLog = func() *slog.Logger {
	if os.Getenv("BENCHLOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return quiet
}()
