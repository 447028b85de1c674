package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/workflow"
)

func TestRunTable(t *testing.T) {
	at := time.Date(2024, 9, 13, 21, 5, 58, 0, time.UTC)
	end := at.Add(94 * time.Second)
	runs := []workflow.Run{
		{ID: "pa02", Task: workflow.TaskPatch, Image: "app:1.0", Status: workflow.StatusFailed, CreatedAt: at.Add(time.Minute), StartedAt: &at, FinishedAt: &end},
		{ID: "tr01", Task: workflow.TaskTrigger, Status: workflow.StatusSucceeded, CreatedAt: at, StartedAt: &at, FinishedAt: &at},
		{ID: "sc03", Task: workflow.TaskScan, Image: "app:1.0", Status: workflow.StatusQueued, CreatedAt: at},
	}
	var b bytes.Buffer
	if err := writeRunTable(&b, runs, at); err != nil {
		t.Fatal(err)
	}
	want := "RUN ID   TASK                    STATUS      IMAGE     CREATED                DURATION\n" +
		"pa02     cssc-patch-image        Failed      app:1.0   2024-09-13T21:06:58Z   00:01:34\n" +
		"tr01     cssc-trigger-workflow   Succeeded   -         2024-09-13T21:05:58Z   00:00:00\n" +
		"sc03     cssc-scan-image         Queued      app:1.0   2024-09-13T21:05:58Z   -\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	running := workflow.Run{StartedAt: &at}
	if got := runDuration(running, at.Add(3*time.Hour+2*time.Minute+1500*time.Millisecond)); got != "03:02:02" {
		t.Errorf("running: %s", got)
	}
}

func TestTaskCommandsWithService(t *testing.T) {
	host, dir, _ := serveEngine(t)
	code, out, errs := run(t, "", "task", "list-runs", "-r", host, "--data-dir", dir)
	if code != 0 || out != "" || !strings.Contains(errs, "No task runs in registry "+host+" match.") {
		t.Fatalf("list-runs: exit %d %q %s", code, out, errs)
	}
	code, out, _ = run(t, "", "task", "list-runs", "-r", host, "--data-dir", dir, "-o", "json")
	if code != 0 || out != "[]\n" {
		t.Fatalf("list-runs -o json: exit %d %q", code, out)
	}
	code, _, errs = run(t, "", "task", "logs", "--run-id", "nope", "--data-dir", dir)
	if code != ExitError || !strings.Contains(errs, `no task run with ID "nope"`) {
		t.Fatalf("logs of a missing run: exit %d: %s", code, errs)
	}
}

func TestTaskBadFlags(t *testing.T) {
	cases := map[string][]string{
		"--registry (-r) is required": {"list-runs"},
		`--name "cssc-nothing"`:       {"list-runs", "-r", "localhost:5000", "-n", "cssc-nothing"},
		`--run-status "done"`:         {"list-runs", "-r", "localhost:5000", "--run-status", "done"},
		"--top 0":                     {"list-runs", "-r", "localhost:5000", "--top", "0"},
		"--run-id is required":        {"logs"},
	}
	for want, args := range cases {
		code, _, errs := run(t, "", append([]string{"task"}, args...)...)
		if code != ExitUsage || !strings.Contains(errs, want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", args, code, errs, want)
		}
	}
}
