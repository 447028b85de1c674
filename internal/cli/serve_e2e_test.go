package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/listfmt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/workflow"
)

// TestServeEndToEnd runs the real engine: serve in-process on SQLite in a
// temporary directory, a registry with a Debian image that has a fixable
// vulnerability (app:1.0) and one that has none (quiet:1.0), create
// --run-immediately, then workflow list once the cycle is done: the
// reference's "scan and patch successful" and "no patch needed" blocks.
func TestServeEndToEnd(t *testing.T) {
	ref, db, repo := patchFixture(t)
	host := strings.SplitN(ref, "/", 2)[0]
	registrytest.Push(t, host+"/quiet:1.0", patchtest.Image(t, patchtest.ImageSpec{
		Release:  patchtest.Bookworm,
		Packages: []aptrepo.Package{{Name: "hello", Version: "1.0-2", Files: []deb.File{{Path: "usr/bin/hello", Data: []byte("hello"), Mode: 0o755}}}},
		Keyring:  repo.Keyring,
	}))
	dir := t.TempDir()
	if err := os.CopyFS(dbDir(dir), os.DirFS(db)); err != nil {
		t.Fatal(err)
	}
	errb := serveInProcess(t, "--data-dir", dir, "--skip-db-update", "--apt-mirror", repo.URL, "--log-format", "json")
	cfg := writeFile(t, "c.json", `{"version": "v1", "repositories": [
		{"repository": "app", "tags": ["*"]}, {"repository": "quiet", "tags": ["1.0"]}]}`)

	code, out, errs := run(t, "", "workflow", "create", "-r", host, "-t", "continuouspatchv1",
		"--config", cfg, "--schedule", "1d", "--run-immediately", "--data-dir", dir)
	if code != 0 || !strings.HasPrefix(out, "Continuous Patching workflow queued to run now.\nContinuous Patching workflow scheduled to run next at: ") || !strings.HasSuffix(out, " UTC\n") {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "1d", "--data-dir", dir)
	if code != ExitError || !strings.Contains(errs, "use `patchloop workflow update`") {
		t.Fatalf("create again: exit %d: %s", code, errs)
	}

	images := waitForImages(t, host, dir, func(images []workflow.ImageStatus) bool {
		return len(images) == 2 && images[0].Patch != nil && images[0].Patch.Status == workflow.StatusSucceeded &&
			images[1].Scan.Status == workflow.StatusSucceeded
	})
	app, quiet := images[0], images[1]
	code, out, errs = run(t, "", "workflow", "list", "-r", host, "--data-dir", dir)
	want := "image: app:1.0\n" +
		"        scan status: Succeeded\n" +
		"        scan date: " + listfmt.PythonTime(app.Scan.CreatedAt) + "\n" +
		"        scan task ID: " + app.Scan.ID + "\n" +
		"        patch status: Succeeded\n" +
		"        patch date: " + listfmt.PythonTime(app.Patch.CreatedAt) + "\n" +
		"        patch task ID: " + app.Patch.ID + "\n" +
		"        last patched image: app:1.0-1\n" +
		"        workflow type: continuouspatchv1\n" +
		"image: quiet:1.0\n" +
		"        scan status: Succeeded\n" +
		"        scan date: " + listfmt.PythonTime(quiet.Scan.CreatedAt) + "\n" +
		"        scan task ID: " + quiet.Scan.ID + "\n" +
		"        patch status: Skipped\n" +
		"        skipped patch reason: no vulnerability found in the image quiet:1.0 image: \n" +
		"        patch date: ---Not Available---\n" +
		"        patch task ID: ---Not Available---\n" +
		"        last patched image: ---Not Available---\n" +
		"        workflow type: continuouspatchv1\n"
	if code != 0 || out != want {
		t.Fatalf("list: exit %d %s\ngot:\n%s\nwant:\n%s", code, errs, out, want)
	}

	code, out, errs = run(t, "", "task", "list-runs", "-r", host, "--data-dir", dir, "-n", "cssc-patch-image", "--run-status", "succeeded")
	if code != 0 || !strings.Contains(out, app.Patch.ID+" ") || !strings.Contains(out, "app:1.0") {
		t.Fatalf("list-runs: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = run(t, "", "task", "logs", "--run-id", app.Patch.ID, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "app:1.0-1") || !strings.Contains(out, "apt patcher: chose package") {
		t.Fatalf("logs: exit %d\n%s%s", code, out, errs)
	}
	checkServeJSONLog(t, errb.String(), app.Patch.ID)
	code, out, errs = run(t, "", "workflow", "delete", "-y", "-r", host, "--data-dir", dir)
	if code != 0 || !strings.HasPrefix(out, "Deleted continuouspatchv1 workflow successfully") {
		t.Fatalf("delete: exit %d\n%s%s", code, out, errs)
	}
}

// waitForImages polls workflow list -o json until done holds.
func waitForImages(t *testing.T, host, dir string, done func([]workflow.ImageStatus) bool) []workflow.ImageStatus {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		code, out, errs := run(t, "", "workflow", "list", "-r", host, "--data-dir", dir, "-o", "json")
		if code != 0 {
			t.Fatalf("list: exit %d: %s", code, errs)
		}
		var images []workflow.ImageStatus
		decodeJSON(t, out, &images)
		if done(images) {
			return images
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cycle did not finish: %s", out)
		}
	}
}

// TestServeEngineBadInput: a bad config exits 2 with its file:line:col,
// and the engine's own message crosses HTTP intact, as ErrInvalidInput.
func TestServeEngineBadInput(t *testing.T) {
	host, dir, _ := serveEngine(t)
	bad := writeFile(t, "bad.json", "{\"version\": \"v1\",\n \"repositories\": [{\"repository\": \"app\", \"tags\": []}]}")
	code, _, errs := run(t, "", "workflow", "create", "-r", host, "--config", bad, "--schedule", "1d", "--data-dir", dir)
	if code != ExitUsage || !strings.Contains(errs, "bad.json:2:") {
		t.Fatalf("bad config: exit %d: %s", code, errs)
	}
	api, err := client.FromEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.Create(context.Background(), workflow.CreateRequest{Registry: host, Type: workflow.TypeContinuousPatchV1,
		ConfigName: "bad.json", Config: []byte("{\"version\": \"v1\",\n \"repositories\": [{\"repository\": \"app\", \"tags\": []}]}"), Schedule: "1d"})
	if !errors.Is(err, workflow.ErrInvalidInput) || !strings.Contains(err.Error(), "bad.json:2:") {
		t.Fatalf("bad config through the client: %v", err)
	}
	_, err = api.Create(context.Background(), workflow.CreateRequest{Registry: host, Type: workflow.TypeContinuousPatchV1,
		ConfigName: "good.json", Config: []byte(goodConfig), Schedule: "0d"})
	if !errors.Is(err, workflow.ErrInvalidInput) || !strings.Contains(err.Error(), "between 1d and 30d") {
		t.Fatalf("bad schedule through the client: %v", err)
	}
	code, _, errs = run(t, "", "workflow", "update", "-r", host, "--schedule", "2d", "--data-dir", dir)
	if code != ExitError || !strings.Contains(errs, "has no continuouspatchv1 workflow") {
		t.Fatalf("update of nothing: exit %d: %s", code, errs)
	}
}

// checkServeJSONLog checks serve's --log-format json stderr: the
// patcher's line for the patch run carries its run_id and image, and
// River's migration lines are absent at info level.
func checkServeJSONLog(t *testing.T, stderr, patchRunID string) {
	t.Helper()
	found := false
	for line := range strings.SplitSeq(stderr, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("serve log line is not JSON: %v\n%s", err, line)
		}
		if rec["msg"] == "apt patcher: chose package" && rec["run_id"] == patchRunID {
			found = rec["image"] != nil && strings.HasSuffix(rec["image"].(string), "/app:1.0")
		}
		if strings.Contains(line, "migration") {
			t.Errorf("River's migration line at info level: %s", line)
		}
	}
	if !found {
		t.Errorf("no JSON line of the patcher with run_id %s and image app:1.0:\n%s", patchRunID, stderr)
	}
}
