package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/metrics"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/vulndb"
	"github.com/patchloop/patchloop/internal/workflow"
)

// get fetches base+path with the bearer token (when not empty).
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestServeMetrics runs a cycle over a vulnerable and a clean image, then
// scrapes /metrics: the run counts by task and status, the images scanned
// and patched, the CVEs fixed, the duration histograms, the queue and the
// vulnerability database; /readyz is ready with a fresh database. The
// database comes from --db, which serve uses as it is (offline).
func TestServeMetrics(t *testing.T) {
	ref, db, repo := patchFixture(t)
	host := strings.SplitN(ref, "/", 2)[0]
	registrytest.Push(t, host+"/quiet:1.0", patchtest.Image(t, patchtest.ImageSpec{
		Release:  patchtest.Bookworm,
		Packages: []aptrepo.Package{{Name: "hello", Version: "1.0-2", Files: []deb.File{{Path: "usr/bin/hello", Data: []byte("hello"), Mode: 0o755}}}},
		Keyring:  repo.Keyring,
	}))
	// The database is given with --db, as offline users do: used as it is.
	dir, vdb := t.TempDir(), filepath.Join(t.TempDir(), "offline-db")
	if err := os.CopyFS(vdb, os.DirFS(db)); err != nil {
		t.Fatal(err)
	}
	built := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	setBuilt(t, vdb, built)
	serveInProcess(t, "--data-dir", dir, "--db", vdb, "--apt-mirror", repo.URL)
	base := os.Getenv(client.EnvServer)
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "c.json", `{"version": "v1", "repositories": [
		{"repository": "app", "tags": ["*"]}, {"repository": "quiet", "tags": ["1.0"]}]}`)
	if code, out, errs := run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "1d", "--run-immediately", "--data-dir", dir); code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	waitForImages(t, host, dir, func(images []workflow.ImageStatus) bool {
		return len(images) == 2 && images[0].Patch != nil && images[0].Patch.Status == workflow.StatusSucceeded &&
			images[1].Scan.Status == workflow.StatusSucceeded
	})

	if code, _ := get(t, base+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: HTTP %d, want 401", code)
	}
	code, body := get(t, base+"/metrics", strings.TrimSpace(string(token)))
	if code != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d\n%s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	got := map[string]float64{}
	for name, f := range families {
		if !strings.HasPrefix(name, "patchloop_") || name == "patchloop_vulndb_age_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			key := name + labels(m)
			switch {
			case m.GetHistogram() != nil:
				got[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			default:
				got[key] = m.GetGauge().GetValue()
			}
		}
	}
	r := `registry="` + host + `"`
	want := map[string]float64{
		`patchloop_runs{` + r + `,status="Succeeded",task="cssc-trigger-workflow"}`: 1,
		`patchloop_runs{` + r + `,status="Succeeded",task="cssc-scan-image"}`:       2,
		`patchloop_runs{` + r + `,status="Succeeded",task="cssc-patch-image"}`:      1,
		`patchloop_images_scanned_total{` + r + `}`:                                 2,
		`patchloop_images_patched_total{` + r + `}`:                                 1,
		`patchloop_cves_fixed_total{` + r + `}`:                                     1,
		`patchloop_run_duration_seconds{task="cssc-trigger-workflow"}_count`:        1,
		`patchloop_run_duration_seconds{task="cssc-scan-image"}_count`:              2,
		`patchloop_run_duration_seconds{task="cssc-patch-image"}_count`:             1,
		`patchloop_queue_depth{task="cssc-trigger-workflow"}`:                       0,
		`patchloop_queue_depth{task="cssc-scan-image"}`:                             0,
		`patchloop_queue_depth{task="cssc-patch-image"}`:                            0,
		`patchloop_workflows`:      1,
		`patchloop_vulndb_present`: 1,
		`patchloop_database_up`:    1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/metrics (-want +got):\n%s", diff)
	}
	age := families["patchloop_vulndb_age_seconds"].GetMetric()[0].GetGauge().GetValue()
	if age < 3600 || age > 3600+600 {
		t.Errorf("patchloop_vulndb_age_seconds = %v, want about an hour", age)
	}

	code, body = get(t, base+"/readyz", "")
	var ready metrics.Readiness
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != http.StatusOK || ready.Status != "ready" || !ready.VulnDBUpdatedAt.Equal(built) {
		t.Errorf("/readyz: HTTP %d %s (%v)", code, body, err)
	}
}

// setBuilt rewrites the metadata of the database in dir: built at built,
// next update a day later.
func setBuilt(t *testing.T, dir string, built time.Time) {
	t.Helper()
	meta, err := json.Marshal(vulndb.Metadata{Version: vulndb.SchemaVersion, UpdatedAt: built, NextUpdate: built.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, vulndb.MetadataFile), meta, 0o644); err != nil {
		t.Fatal(err)
	}
}

// labels formats a metric's labels as {a="x",b="y"}, sorted as exposed.
func labels(m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return ""
	}
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// TestServeReadyzWithoutVulnDB: without a vulnerability database /readyz
// answers 503 and says what to do; /healthz stays 200.
func TestServeReadyzWithoutVulnDB(t *testing.T) {
	dir := t.TempDir()
	serveInProcess(t, "--data-dir", dir, "--skip-db-update")
	base := os.Getenv(client.EnvServer)
	code, body := get(t, base+"/readyz", "")
	var ready metrics.Readiness
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != http.StatusServiceUnavailable ||
		ready.Status != "not ready" || !strings.Contains(ready.Reason, "no vulnerability database in "+dbDir(dir)) {
		t.Errorf("/readyz: HTTP %d %s (%v)", code, body, err)
	}
	if code, body := get(t, base+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz: HTTP %d %s", code, body)
	}
}
