package workflow

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDatabaseRefreshedEveryCycle starts an engine with no vulnerability
// database: the first cycle's scan fails saying how to get one; an update
// before the second cycle installs one and that cycle scans and patches
// with it, without a restart.
func TestDatabaseRefreshedEveryCycle(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	ready := f.vulnDir
	missing := filepath.Join(t.TempDir(), "db")
	var updates atomic.Int32
	var install atomic.Bool
	e := f.start(t, func(o *Options) {
		o.VulnDBDir = missing
		o.UpdateDB = func(context.Context) error {
			updates.Add(1)
			if !install.Load() {
				return os.ErrDeadlineExceeded // the mirror is unreachable
			}
			return os.CopyFS(missing, os.DirFS(ready))
		}
	})
	f.create(t, e, configOf("incremental", "app"), false)

	f.runCycle(t, e, day)
	st := imageStatuses(t, e, f.host, "")["app:1.0"]
	if st.Scan == nil || st.Scan.Status != StatusFailed || !strings.Contains(st.Scan.Error, "patchloop db update") {
		t.Fatalf("without a database: %s", show(st))
	}
	if n := len(runsOf(t, e, f.host, TaskScan)); n != 1 {
		t.Fatalf("scan runs = %d: a missing database must not be retried", n)
	}

	install.Store(true)
	f.runCycle(t, e, day)
	st = imageStatuses(t, e, f.host, "")["app:1.0"]
	if st.Scan.Status != StatusSucceeded || st.Patch == nil || st.Patch.Status != StatusSucceeded || st.LastPatchedImage != "app:1.0-1" {
		t.Fatalf("after the update: %s", show(st))
	}
	if updates.Load() != 2 {
		t.Fatalf("updates = %d, want one per cycle", updates.Load())
	}
}
