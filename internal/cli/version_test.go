package cli

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

func TestVersion(t *testing.T) {
	data := t.TempDir()
	code, out, errs := run(t, "", "version", "--data-dir", data)
	if code != 0 || !strings.Contains(out, "Go:               "+runtime.Version()+"\n") ||
		!strings.Contains(out, "Vulnerability DB: not downloaded ("+dbDir(data)) {
		t.Fatalf("version without a database: exit %d\n%s%s", code, out, errs)
	}
	built := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	if err := vulndbtest.Write(dbDir(data), vulndbtest.Database{Metadata: vulndb.Metadata{UpdatedAt: built, NextUpdate: built.Add(6 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(t, "", "version", "--data-dir", data)
	if want := "Vulnerability DB: schema 2, built " + built.Format(time.RFC3339) + ", 3h0m"; code != 0 || !strings.Contains(out, want) {
		t.Fatalf("version: exit %d, want %q in\n%s%s", code, want, out, errs)
	}
	code, out, errs = run(t, "", "version", "--db", dbDir(data), "-o", "json")
	var v versionJSON
	if code != 0 {
		t.Fatalf("version -o json: exit %d: %s", code, errs)
	}
	decodeJSON(t, out, &v)
	if v.GoVersion != runtime.Version() || v.Version == "" || !v.VulnDB.Present || v.VulnDB.Version != 2 ||
		!v.VulnDB.UpdatedAt.Equal(built) || v.VulnDB.AgeSeconds < 3*3600 {
		t.Errorf("version -o json = %+v", v)
	}
	code, out, _ = run(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "Version:") || !strings.Contains(out, "Go:") || !strings.Contains(out, "Vulnerability DB:") {
		t.Errorf("--version: exit %d\n%s", code, out)
	}
}
