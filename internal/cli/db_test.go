package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

func TestDBUpdateAndStatus(t *testing.T) {
	host := registrytest.Start(t)
	repo := host + "/mirror/trivy-db"
	built := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	digest := pushDB(t, repo+":2", scanDB(built, "3.0.13-1~deb12u1"))
	data := t.TempDir()

	// No database yet.
	code, out, errs := run(t, "", "db", "status", "--data-dir", data)
	if code != ExitError || out != "" || !strings.Contains(errs, "no vulnerability database in ") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = run(t, "", "db", "status", "--data-dir", data, "-o", "json")
	var absent map[string]any
	decodeJSON(t, out, &absent)
	if code != ExitError || absent["present"] != false {
		t.Fatalf("exit %d: %s", code, out)
	}

	code, out, errs = run(t, "", "db", "update", "--data-dir", data, "--db-repository", repo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "Downloaded the vulnerability database from " + repo + " (" + digest + "), built " + built.Format(time.RFC3339) + "\n"
	if out != want {
		t.Fatalf("stdout %q, want %q", out, want)
	}
	code, out, _ = run(t, "", "db", "update", "--data-dir", data, "--db-repository", repo)
	if code != 0 || !strings.HasPrefix(out, "The vulnerability database in "+dbDir(data)+" is up to date: next update due at ") {
		t.Fatalf("exit %d: %s", code, out)
	}

	code, out, errs = run(t, "", "db", "status", "--data-dir", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	wantText := regexp.MustCompile(`^Directory:    ` + regexp.QuoteMeta(dbDir(data)) + `
Version:      2
UpdatedAt:    ` + regexp.QuoteMeta(built.Format(time.RFC3339)) + `
NextUpdate:   ` + regexp.QuoteMeta(built.Add(24*time.Hour).Format(time.RFC3339)) + `
DownloadedAt: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ
Age:          3h0m\d+s
Stale:        no
Size:         \d+ bytes
Source:       ` + regexp.QuoteMeta(repo+" "+digest) + `
$`)
	if !wantText.MatchString(out) {
		t.Fatalf("status:\n%s", out)
	}

	code, out, _ = run(t, "", "db", "status", "--data-dir", data, "-o", "json")
	var st dbStatusJSON
	decodeJSON(t, out, &st)
	if code != 0 || !st.Present || st.Version != 2 || !st.UpdatedAt.Equal(built) || st.Stale ||
		st.Source == nil || st.Source.Repository != repo || st.Source.Digest != digest || st.AgeSeconds < 3*3600 || st.DownloadedAt == nil {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestDBUpdateFailure(t *testing.T) {
	host := registrytest.Start(t)
	code, _, errs := run(t, "", "db", "update", "--data-dir", t.TempDir(), "--db-repository", host+"/nothing/here")
	if code != ExitError || !strings.Contains(errs, "every repository failed") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
