package apt_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// quiet is a logger for tests.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// sourcesFor returns a sources.list naming the repository's suites.
func sourcesFor(r *aptrepo.Repo, suites ...string) string {
	var b strings.Builder
	for _, s := range suites {
		b.WriteString("deb " + r.URL + " " + s + " main\n")
	}
	return b.String()
}

// newPatcher returns a patcher with a fresh cache.
func newPatcher(t testing.TB, opts apt.Options) *apt.Patcher {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	p, err := apt.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// patchImage runs the patcher and appends its layer; an error fails the
// test.
func patchImage(t testing.TB, p *apt.Patcher, img v1.Image, fs []patch.Finding) (v1.Image, *patch.Outcome) {
	t.Helper()
	patched, out, err := patchtest.PatchImage(t, p, img, fs)
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	return patched, out
}

// stat returns the nodes of paths, the last element not followed.
func stat(t testing.TB, img v1.Image, paths ...string) map[string]imagefs.Node {
	t.Helper()
	v, err := imagefs.Open(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Stat(context.Background(), paths...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// record returns the status record of a package from a status file.
func record(t testing.TB, status, name string) deb.Paragraph {
	t.Helper()
	ps, err := deb.ParseParagraphs(strings.NewReader(status))
	if err != nil {
		t.Fatalf("status: %v\n%s", err, status)
	}
	for _, p := range ps {
		if p.Get("Package") == name {
			return p
		}
	}
	t.Fatalf("status has no %s record:\n%s", name, status)
	return deb.Paragraph{}
}

// debFile is a file of a test package.
type debFile = deb.File

// file is a shorthand for a regular file of a package.
func file(p, body string) deb.File { return deb.File{Path: p, Data: []byte(body)} }

// mustNoFindings fails when img still has fixable findings.
func mustNoFindings(t testing.TB, img v1.Image, db *vulndb.DB) {
	t.Helper()
	if fs := patchtest.Findings(t, img, db); len(fs) > 0 {
		t.Fatalf("fixable findings left after patching: %+v", fs)
	}
}
