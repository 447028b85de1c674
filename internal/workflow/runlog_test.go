package workflow

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// TestRunLogsOfConcurrentPatches runs two patches at once and checks that
// each run's log holds the patcher's lines for its own image and none of
// the other's.
func TestRunLogsOfConcurrentPatches(t *testing.T) {
	f := newFixture(t)
	g := newGate(t, f)
	img := f.debian(t, "1.0-1")
	f.push(t, img, "one", "1.0")
	f.push(t, img, "two", "1.0")
	e := f.start(t)
	ctx := context.Background()
	f.create(t, e, configOf("incremental", "one", "two"), false)
	f.clock.Advance(day)
	if err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t)
	waitFor(t, "both patches running", func() bool {
		running := 0
		for _, r := range runsOf(t, e, f.host, TaskPatch) {
			if r.Status == StatusRunning {
				running++
			}
		}
		return running == 2
	})
	g.release()
	waitIdle(t, e, f.host)

	patches := runsOf(t, e, f.host, TaskPatch)
	if len(patches) != 2 {
		t.Fatalf("patch runs = %+v", patches)
	}
	for _, r := range patches {
		if r.Status != StatusSucceeded {
			t.Fatalf("patch of %s: %s %s", r.Image, r.Status, r.Error)
		}
		log, err := e.RunLog(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		own, other := r.Image, "one:1.0"
		if own == "one:1.0" {
			other = "two:1.0"
		}
		for _, want := range []string{
			"run started",
			"apt patcher: loading package indexes",
			"apt patcher: chose package",
			`msg="new layer" image=` + f.host + "/" + own,
			`msg="pushed patched image" reference=` + f.host + "/" + own + "-1",
		} {
			if n := strings.Count(log, want); n != 1 {
				t.Errorf("log of %s has %q %d times, want once:\n%s", own, want, n, log)
			}
		}
		if !strings.Contains(log, "/"+own) {
			t.Errorf("log of %s never names it:\n%s", own, log)
		}
		if strings.Contains(log, other) {
			t.Errorf("log of %s has lines of %s:\n%s", own, other, log)
		}
	}
}

// TestRunLoggerAttributes checks that the serve log's copy of a run's line
// carries run_id, image and attempt, and the run's own copy does not need
// them.
func TestRunLoggerAttributes(t *testing.T) {
	var serve bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&serve, nil))
	buf := &runLog{}
	l := newRunLogger(base, buf, slog.String("run_id", "r1"), slog.String("image", "reg/app:1.0"), slog.Int("attempt", 2))
	l.Info("chose package", "package", "hello")
	for _, want := range []string{`"run_id":"r1"`, `"image":"reg/app:1.0"`, `"attempt":2`, `"package":"hello"`} {
		if !strings.Contains(serve.String(), want) {
			t.Errorf("serve log lacks %s: %s", want, serve.String())
		}
	}
	lines := buf.take()
	if len(lines) != 1 || !strings.Contains(lines[0].Text, "msg=\"chose package\" package=hello") || strings.Contains(lines[0].Text, "run_id") {
		t.Errorf("run log = %+v", lines)
	}
}

// TestRiverLoggerQuiet checks that River's info lines reach the serve log
// only at debug level, and its warnings always.
func TestRiverLoggerQuiet(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	log := func(level slog.Level) *slog.Logger {
		return slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &out}, &slog.HandlerOptions{Level: level}))
	}
	riverLogger(log(slog.LevelInfo)).Info("applied migration")
	riverLogger(log(slog.LevelInfo)).Warn("producer stuck")
	if got := out.String(); strings.Contains(got, "applied migration") || !strings.Contains(got, "level=WARN msg=\"producer stuck\" component=river") {
		t.Errorf("at info:\n%s", got)
	}
	out.Reset()
	riverLogger(log(slog.LevelDebug)).Info("applied migration")
	if got := out.String(); !strings.Contains(got, "level=DEBUG msg=\"applied migration\" component=river") {
		t.Errorf("at debug:\n%s", got)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
