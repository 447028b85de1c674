package cli

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/store/storetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/workflow"
)

// TestServeTwoProcessesOnPostgres runs two `patchloop serve` instances, each
// with its own data directory, API port, River client and connection pool,
// on one PostgreSQL database, and a workflow over nine vulnerable images:
// the cycle runs once, and every image is scanned and patched exactly once.
func TestServeTwoProcessesOnPostgres(t *testing.T) {
	database := storetest.Postgres(t) // skips without a PostgreSQL server
	ref, db, repo := patchFixture(t)
	host := strings.SplitN(ref, "/", 2)[0]
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	repos := []string{`{"repository": "app", "tags": ["*"]}`}
	for i := range 8 {
		registrytest.Push(t, fmt.Sprintf("%s/app%d:1.0", host, i), img)
		repos = append(repos, fmt.Sprintf(`{"repository": "app%d", "tags": ["*"]}`, i))
	}
	var logs []*syncBuffer
	for range 2 {
		dir := t.TempDir()
		if err := os.CopyFS(dbDir(dir), os.DirFS(db)); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, serveInProcess(t, "--data-dir", dir, "--skip-db-update", "--apt-mirror", repo.URL,
			"--database-url", database, "--token", "two-processes-one-database-0123456789", "--concurrency", "2"))
	}
	t.Setenv(client.EnvToken, "two-processes-one-database-0123456789")
	cfg := writeFile(t, "c.json", `{"version": "v1", "repositories": [`+strings.Join(repos, ",")+`]}`)
	dir := t.TempDir() // the CLI's own; the token comes from the environment
	code, out, errs := run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "1d", "--run-immediately", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	waitForImages(t, host, dir, func(images []workflow.ImageStatus) bool {
		if len(images) != 9 {
			return false
		}
		for _, st := range images {
			if st.Patch == nil || st.Patch.Status != workflow.StatusSucceeded {
				return false
			}
		}
		return true
	})

	for i, l := range logs {
		t.Logf("serve %d finished %d task runs", i+1, strings.Count(l.String(), "run finished"))
	}
	api, err := client.FromEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := api.Runs(context.Background(), workflow.RunFilter{Registry: host})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range runs {
		count[r.Task+" "+r.Image]++
		if r.Status != workflow.StatusSucceeded {
			t.Errorf("run %s %s %s: %s %s", r.ID, r.Task, r.Image, r.Status, r.Error)
		}
	}
	if count[workflow.TaskTrigger+" "] != 1 {
		t.Errorf("trigger runs: %d, want 1 (runs: %v)", count[workflow.TaskTrigger+" "], count)
	}
	images := []string{"app:1.0"}
	for i := range 8 {
		images = append(images, fmt.Sprintf("app%d:1.0", i))
	}
	for _, im := range images {
		for _, task := range []string{workflow.TaskScan, workflow.TaskPatch} {
			if n := count[task+" "+im]; n != 1 {
				t.Errorf("%s of %s ran %d times, want once", task, im, n)
			}
		}
		repoName := strings.SplitN(im, ":", 2)[0]
		rp, _ := name.NewRepository(host + "/" + repoName)
		tags, err := remote.List(rp)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(tags)
		if !slices.Equal(tags, []string{"1.0", "1.0-1"}) {
			t.Errorf("%s tags = %v, want 1.0 and 1.0-1", repoName, tags)
		}
	}
}
