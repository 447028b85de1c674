package patchtest

import (
	"context"
	"testing"

	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// Advisory says that a source package is vulnerable before a version.
type Advisory struct {
	// Source is the source package the advisory is keyed by.
	Source string
	// ID is the vulnerability ID.
	ID string
	// Fixed is the first fixed version of the source package.
	Fixed string
}

// Database writes a vulnerability database holding the advisories for
// platform ("debian 12") into a new directory and opens it.
func Database(t testing.TB, platform string, advs ...Advisory) *vulndb.DB {
	t.Helper()
	dir := WriteDatabase(t, platform, advs...)
	db, err := vulndb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// WriteDatabase writes a vulnerability database holding the advisories
// for platform into a new directory and returns the directory.
func WriteDatabase(t testing.TB, platform string, advs ...Advisory) string {
	t.Helper()
	pkgs := map[string][]vulndb.Advisory{}
	var vulns []vulndb.Vulnerability
	for _, a := range advs {
		pkgs[a.Source] = append(pkgs[a.Source], vulndb.Advisory{VulnerabilityID: a.ID, FixedVersion: a.Fixed, Severity: vulndb.SeverityHigh})
		vulns = append(vulns, vulndb.Vulnerability{ID: a.ID, Title: "test vulnerability " + a.ID, Severity: vulndb.SeverityHigh})
	}
	dir := t.TempDir()
	err := vulndbtest.Write(dir, vulndbtest.Database{
		Platforms: []vulndbtest.Platform{{
			Name:       platform,
			DataSource: vulndb.DataSource{ID: "debian", Name: "Debian Security Tracker"},
			Packages:   pkgs,
		}},
		Vulnerabilities: vulns,
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
