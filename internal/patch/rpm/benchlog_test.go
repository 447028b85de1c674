package rpm_test

import (
	"log/slog"
	"os"
)

var benchLog = func() *slog.Logger {
	if os.Getenv("BENCHLOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return quiet
}()
