package cli

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/listfmt"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/workflow"
)

const goodConfig = `{"version": "v1", "tag-convention": "floating", "repositories": [{"repository": "app", "tags": ["*"]}]}`

var scheduled = regexp.MustCompile(`^Continuous Patching workflow scheduled to run next at: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\n$`)

func TestWorkflowLifecycle(t *testing.T) {
	host, dir, _ := serveEngine(t)
	cfg := writeFile(t, "c.json", goodConfig)
	wf := func(args ...string) (int, string, string) {
		return run(t, "y\n", append(append([]string{"workflow"}, args...), "-r", host, "--data-dir", dir)...)
	}

	before := time.Now().UTC().Truncate(time.Second)
	code, out, errs := wf("create", "-t", "continuouspatchv1", "--config", cfg, "--schedule", "1d")
	m := scheduled.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	next, _ := time.Parse("2006-01-02 15:04:05", m[1])
	if d := next.Sub(before); d < 24*time.Hour || d > 24*time.Hour+time.Minute {
		t.Errorf("next run %s is not a day after %s", next, before)
	}
	code, _, errs = wf("create", "--config", cfg, "--schedule", "1d")
	if code != ExitError || !strings.Contains(errs, "already exists in registry "+host+": use `patchloop workflow update`") {
		t.Fatalf("create twice: exit %d: %s", code, errs)
	}

	code, out, errs = wf("show")
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errs)
	}
	for _, want := range []string{"Workflow type:   continuouspatchv1\n", "Registry:        " + host + "\n", "Schedule:        every 1d\n",
		"Created:         " + before.Format("2006-01-02"), " by " + whoAmI() + "\n", "Next run:        " + m[1] + " UTC\n",
		"Tag convention:  floating\n", "Config artifact: csscpolicies/patchpolicy@sha256:", "Config:\n  {\n    \"version\": \"v1\",\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	code, out, errs = wf("update", "--schedule", "7d", "-o", "json")
	if code != 0 || !strings.Contains(out, `"schedule": "7d"`) {
		t.Fatalf("update: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs = wf("update"); code != ExitUsage || !strings.Contains(errs, "give --config, --schedule or both: what to change (or --run-immediately to run the workflow now)") {
		t.Fatalf("update without changes: exit %d: %s", code, errs)
	}
	if code, _, errs = wf("update", "--schedule", "0d"); code != ExitUsage || !strings.Contains(errs, "between 1d and 30d") {
		t.Fatalf("update --schedule 0d: exit %d: %s", code, errs)
	}

	code, out, errs = wf("cancel-run")
	if code != 0 || out != "Canceled 0 queued or running task runs of the continuouspatchv1 workflow in registry "+host+".\n" {
		t.Fatalf("cancel-run: exit %d\n%s%s", code, out, errs)
	}

	// delete asks first: anything but y is no.
	code, _, errs = run(t, "n\n", "workflow", "delete", "-r", host, "--data-dir", dir)
	if code != ExitError || !strings.Contains(errs, "Are you sure you want to delete the workflow continuouspatchv1 from registry "+host+"? (y/N): ") ||
		!strings.Contains(errs, "was not deleted") {
		t.Fatalf("delete, answered n: exit %d: %s", code, errs)
	}
	code, out, errs = wf("delete")
	if code != 0 || out != "Deleted continuouspatchv1 workflow successfully from registry "+host+"\n" {
		t.Fatalf("delete: exit %d\n%s%s", code, out, errs)
	}
	// The config artifact is gone; the embedded registry (distribution)
	// keeps the empty repository, and delete says so and what to do.
	policy, err := name.NewRepository(host + "/csscpolicies/patchpolicy")
	if err != nil {
		t.Fatal(err)
	}
	if tags, err := remote.List(policy); err == nil && len(tags) != 0 {
		t.Errorf("policy tags after delete: %q", tags)
	}
	if !strings.Contains(errs, "Note: the config artifact is deleted, but registry "+host+" still lists the empty repository csscpolicies/patchpolicy") ||
		!strings.Contains(errs, "remove it with the registry's own tools") {
		t.Errorf("delete did not say the repository is kept: %q", errs)
	}
	code, _, errs = run(t, "", "workflow", "delete", "-y", "-r", host, "--data-dir", dir)
	if code != ExitError || !strings.Contains(errs, "has no continuouspatchv1 workflow: create one with `patchloop workflow create`") {
		t.Fatalf("delete again: exit %d: %s", code, errs)
	}
}

func TestWorkflowCreateBadInputWithService(t *testing.T) {
	host, dir, _ := serveEngine(t)
	good := writeFile(t, "good.json", goodConfig)
	bad := writeFile(t, "bad.json", `{"version": "v2", "repositories": []}`)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"dry run and run now", []string{"--config", good, "--schedule", "1d", "--dry-run", "--run-immediately"}, "--dry-run and --run-immediately cannot be used together"},
		{"bad config", []string{"--config", bad, "--schedule", "1d"}, "bad.json:1:13: version"},
		{"bad schedule", []string{"--config", good, "--schedule", "31d"}, "between 1d and 30d"},
		{"credentials", []string{"--config", good, "--schedule", "1d", "--insecure"}, "apply to --dry-run only"},
	}
	for _, c := range cases {
		code, _, errs := run(t, "", append([]string{"workflow", "create", "-r", host, "--data-dir", dir}, c.args...)...)
		if code != ExitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 mentioning %q", c.name, code, errs, c.want)
		}
	}
}

func TestServiceUnreachableAndNoToken(t *testing.T) {
	t.Setenv("PATCHLOOP_SERVER", "http://127.0.0.1:1")
	t.Setenv("PATCHLOOP_TOKEN", "")
	dir := t.TempDir()
	code, _, errs := run(t, "", "workflow", "show", "-r", "localhost:5000", "--data-dir", dir)
	if code != ExitError || !strings.Contains(errs, "no API token: "+dir+"/token does not exist") {
		t.Fatalf("no token: exit %d: %s", code, errs)
	}
	t.Setenv("PATCHLOOP_TOKEN", "some-token-0123456789")
	code, _, errs = run(t, "", "workflow", "list", "-r", "localhost:5000")
	if code != ExitError || !strings.Contains(errs, "cannot reach the Patchloop service at http://127.0.0.1:1: start it with `patchloop serve`") {
		t.Fatalf("unreachable: exit %d: %s", code, errs)
	}
}

func TestWorkflowListEmptyAndBadStatus(t *testing.T) {
	host, dir, _ := serveEngine(t)
	code, _, errs := run(t, "", "workflow", "list", "-r", host, "--data-dir", dir)
	if code != ExitError || !strings.Contains(errs, "has no continuouspatchv1 workflow") {
		t.Fatalf("list without a workflow: exit %d: %s", code, errs)
	}
	cfg := writeFile(t, "c.json", goodConfig)
	if code, _, errs := run(t, "", "workflow", "create", "-r", host, "--data-dir", dir, "--config", cfg, "--schedule", "1d"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := run(t, "", "workflow", "list", "-r", host, "--data-dir", dir)
	if code != 0 || out != "" || !strings.Contains(errs, "No images have run in the continuouspatchv1 workflow of registry "+host+" yet.") {
		t.Fatalf("empty list: exit %d %q %q", code, out, errs)
	}
	code, out, _ = run(t, "", "workflow", "list", "-r", host, "--data-dir", dir, "--run-status", "Failed", "-o", "json")
	if code != 0 || out != "[]\n" {
		t.Fatalf("empty list as JSON: exit %d %q", code, out)
	}
	code, _, errs = run(t, "", "workflow", "list", "-r", host, "--run-status", "broken")
	if code != ExitUsage || !strings.Contains(errs, "must be failed, successful or running") {
		t.Fatalf("bad --run-status: exit %d: %s", code, errs)
	}
}

// TestWorkflowListEveryRegistry: workflow list without -r lists every
// registry's workflow.
func TestWorkflowListEveryRegistry(t *testing.T) {
	host, dir, _ := serveEngine(t)
	code, out, errs := run(t, "", "workflow", "list", "--data-dir", dir)
	if code != 0 || out != "" || !strings.Contains(errs, "No workflows yet") {
		t.Fatalf("no workflows: exit %d %q %q", code, out, errs)
	}
	if code, out, _ = run(t, "", "workflow", "list", "--data-dir", dir, "-o", "json"); code != 0 || out != "[]\n" {
		t.Fatalf("no workflows as JSON: exit %d %q", code, out)
	}
	other := registrytest.Start(t)
	cfg := writeFile(t, "c.json", goodConfig)
	for _, h := range []string{host, other} {
		if code, _, errs := run(t, "", "workflow", "create", "-r", h, "--data-dir", dir, "--config", cfg, "--schedule", "1d"); code != 0 {
			t.Fatal(errs)
		}
	}
	first, second := min(host, other), max(host, other)
	code, out, errs = run(t, "", "workflow", "list", "--data-dir", dir)
	want := "registry: " + first + "\n        (no image has run yet)\nregistry: " + second + "\n        (no image has run yet)\n"
	if code != 0 || out != want {
		t.Fatalf("list: exit %d %s\ngot:\n%s\nwant:\n%s", code, errs, out, want)
	}
	code, out, errs = run(t, "", "workflow", "list", "--data-dir", dir, "-o", "json")
	var all []registryImages
	if code != 0 {
		t.Fatalf("list -o json: exit %d: %s", code, errs)
	}
	decodeJSON(t, out, &all)
	got := []string{}
	for _, r := range all {
		got = append(got, r.Registry+" "+r.Type+" "+strconv.Itoa(len(r.Images)))
	}
	if diff := cmp.Diff([]string{first + " continuouspatchv1 0", second + " continuouspatchv1 0"}, got); diff != "" {
		t.Errorf("list -o json (-want +got):\n%s", diff)
	}
}

// TestWorkflowUpdateRunNowAlone: update --run-immediately with neither
// --config nor --schedule runs the workflow now (its trigger runs, against
// an empty registry) and prints when the next scheduled run is: one
// schedule interval from now.
func TestWorkflowUpdateRunNowAlone(t *testing.T) {
	host, dir, _ := serveEngine(t)
	cfg := writeFile(t, "c.json", goodConfig)
	wf := func(args ...string) (int, string, string) {
		return run(t, "", append(append([]string{"workflow"}, args...), "-r", host, "--data-dir", dir)...)
	}
	if code, out, errs := wf("create", "--config", cfg, "--schedule", "3d"); code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	before := time.Now().UTC().Truncate(time.Second)
	code, out, errs := wf("update", "--run-immediately")
	lines := strings.SplitAfterN(out, "\n", 2)
	if code != 0 || len(lines) != 2 || lines[0] != "Continuous Patching workflow queued to run now.\n" {
		t.Fatalf("update --run-immediately: exit %d\n%s%s", code, out, errs)
	}
	m := scheduled.FindStringSubmatch(lines[1])
	if m == nil {
		t.Fatalf("update --run-immediately: no next scheduled run in %q", out)
	}
	next, _ := time.Parse("2006-01-02 15:04:05", m[1])
	if d := next.Sub(before); d < 72*time.Hour || d > 72*time.Hour+time.Minute {
		t.Errorf("next scheduled run %s is not 3 days after %s", next, before)
	}
	// The cycle ran: its trigger run is recorded.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, out, errs := run(t, "", "task", "list-runs", "-r", host, "--data-dir", dir, "-n", "cssc-trigger-workflow", "--run-status", "succeeded")
		if code != 0 {
			t.Fatalf("list-runs: exit %d: %s", code, errs)
		}
		if strings.Contains(out, "cssc-trigger-workflow") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no trigger run after update --run-immediately:\n%s", out)
		}
	}
}

// TestWorkflowListFailedTrigger: through a live serve, a cycle whose
// trigger fails (the image limit) is shown by workflow list as a failed
// trigger block, also under --run-status failed, and not under successful.
func TestWorkflowListFailedTrigger(t *testing.T) {
	host := registrytest.Start(t)
	dir := t.TempDir()
	if err := vulndbtest.Write(dbDir(dir), vulndbtest.Database{}); err != nil {
		t.Fatal(err)
	}
	serveInProcess(t, "--data-dir", dir, "--skip-db-update", "--max-images", "1")
	registrytest.PushTags(t, host, "app", "1.0")
	cfg := writeFile(t, "c.json", goodConfig)
	if code, out, errs := run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "1d", "--data-dir", dir); code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	registrytest.PushTags(t, host, "app", "2.0")
	// update with a config checks the service's limit, with a cycle's message.
	code, _, errs := run(t, "", "workflow", "update", "-r", host, "--config", cfg, "--data-dir", dir)
	if code != ExitUsage || errs != "Error: config selects more images than --max-images: 2 images selected, limit 1; narrow the config or raise --max-images\n" {
		t.Fatalf("update over the limit: exit %d: %q", code, errs)
	}
	if code, out, errs := run(t, "", "workflow", "update", "-r", host, "--run-immediately", "--data-dir", dir); code != 0 {
		t.Fatalf("update: exit %d\n%s%s", code, out, errs)
	}
	api, err := client.FromEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	var trigger workflow.Run
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		runs, err := api.Runs(context.Background(), workflow.RunFilter{Registry: host, Task: workflow.TaskTrigger, Top: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].Status == workflow.StatusFailed {
			trigger = runs[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trigger did not fail: %+v", runs)
		}
	}
	want := "trigger: cssc-trigger-workflow\n" +
		"        trigger status: Failed\n" +
		"        trigger failure reason: config selects more images than --max-images: 2 images selected, limit 1; narrow the config or raise --max-images\n" +
		"        trigger date: " + listfmt.PythonTime(trigger.CreatedAt) + "\n" +
		"        trigger task ID: " + trigger.ID + "\n" +
		"        workflow type: continuouspatchv1\n"
	for _, status := range []string{"", "failed"} {
		code, out, errs := run(t, "", "workflow", "list", "-r", host, "--run-status", status, "--data-dir", dir)
		if code != 0 || out != want {
			t.Errorf("list --run-status %q: exit %d %s\ngot:\n%s\nwant:\n%s", status, code, errs, out, want)
		}
	}
	code, out, errs := run(t, "", "workflow", "list", "-r", host, "--run-status", "successful", "--data-dir", dir)
	if code != 0 || out != "" || !strings.Contains(errs, "has run status successful") {
		t.Errorf("list --run-status successful: exit %d\n%s%s", code, out, errs)
	}
}
