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
	if code != ExitError || !strings.Contains(errs, "every repository failed") || !strings.Contains(errs, "patchloop db import") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// The failure is reported once, not also as a warning before it.
	if n := strings.Count(errs, "nothing/here:2"); n != 1 {
		t.Fatalf("the failure is reported %d times:\n%s", n, errs)
	}
}

func TestDBImportBadSource(t *testing.T) {
	notes := writeFile(t, "notes.txt", "hello")
	code, _, errs := run(t, "", "db", "import", notes, "--data-dir", t.TempDir())
	if code != ExitError || !strings.Contains(errs, "import vulnerability database "+notes+": not a gzipped tar") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if code, _, errs := run(t, "", "db", "import"); code != ExitUsage {
		t.Fatalf("no SOURCE: exit %d: %s", code, errs)
	}
}

func TestImagePushBadInput(t *testing.T) {
	notes := writeFile(t, "notes.txt", "hello")
	for args, want := range map[string]struct {
		code int
		err  string
	}{
		notes + " localhost:5000/app:1":     {ExitError, "image source " + notes + ": not a docker save tarball"},
		notes + " Not//A:Ref":               {ExitUsage, `DEST "Not//A:Ref"`},
		t.TempDir() + " localhost:5000/a:1": {ExitError, "not an OCI image layout"},
	} {
		code, _, errs := run(t, "", append([]string{"image", "push"}, strings.Fields(args)...)...)
		if code != want.code || !strings.Contains(errs, want.err) {
			t.Errorf("%s: exit %d: %s", args, code, errs)
		}
	}
}
