package rpm_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/patch"
	rpmpatch "github.com/patchloop/patchloop/internal/patch/rpm"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/scan"
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

func findings(t testing.TB, img v1.Image, db *vulndb.DB) []patch.Finding {
	t.Helper()
	rep, err := scan.Scan(context.Background(), img, db, scan.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return patch.FindingsFromReport(rep)
}

func patchImage(t testing.TB, p *rpmpatch.Patcher, img v1.Image, fs []patch.Finding) (v1.Image, *patch.Outcome, error) {
	t.Helper()
	out, err := p.Patch(context.Background(), img, patch.Request{Findings: fs, WorkDir: t.TempDir()})
	if err != nil || out.Layer == nil {
		return img, out, err
	}
	d, _ := img.Digest()
	patched, err := patch.AppendLayer(img, out.Layer, out.LayerHistory, patch.Base{Name: "test", Digest: d}, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return patched, out, nil
}

// read returns the content of regular files of an image.
func read(t testing.TB, img v1.Image, paths ...string) map[string]string {
	t.Helper()
	v, err := imagefs.Open(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	res, err := v.Resolve(context.Background(), imagefs.Request{Files: paths})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for p, n := range res.Files {
		if n.Kind == imagefs.KindRegular {
			out[p] = string(n.Content)
		}
	}
	return out
}

// layerHeaders returns the tar headers of a layer by name.
func layerHeaders(t testing.TB, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(h.Name, "/")] = h
	}
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
