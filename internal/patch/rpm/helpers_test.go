package rpm_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	rpmpatch "github.com/patchloop/patchloop/internal/patch/rpm"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// advisory says a binary package is vulnerable before a version.
type advisory struct{ pkg, id, fixed string }

// database writes and opens a vulnerability database for platform
// ("rocky 9") with the advisories, as Trivy keys rpm advisories: by
// binary package name.
func database(t testing.TB, platform, source string, advs ...advisory) *vulndb.DB {
	t.Helper()
	pkgs := map[string][]vulndb.Advisory{}
	var vulns []vulndb.Vulnerability
	for _, a := range advs {
		pkgs[a.pkg] = append(pkgs[a.pkg], vulndb.Advisory{VulnerabilityID: a.id, FixedVersion: a.fixed, Severity: vulndb.SeverityHigh, Arches: []string{"x86_64", "noarch", "i686", "aarch64"}})
		vulns = append(vulns, vulndb.Vulnerability{ID: a.id, Title: "test vulnerability " + a.id, Severity: vulndb.SeverityHigh})
	}
	dir := t.TempDir()
	err := vulndbtest.Write(dir, vulndbtest.Database{
		Platforms:       []vulndbtest.Platform{{Name: platform, DataSource: vulndb.DataSource{ID: source, Name: source}, Packages: pkgs}},
		Vulnerabilities: vulns,
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newPatcher(t testing.TB, opts rpmpatch.Options) *rpmpatch.Patcher {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	p, err := rpmpatch.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dep is a versioned dependency "name >= evr" written as name, op, evr.
func dep(name string, rest ...string) rpm.Dep {
	d := rpm.Dep{Name: name}
	if len(rest) == 2 {
		d.Flags, _ = rpm.SenseOf(map[string]string{"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}[rest[0]])
		d.Version = rest[1]
	}
	return d
}

func file(p, body string) rpmrepo.File { return rpmrepo.File{Path: p, Content: []byte(body)} }
