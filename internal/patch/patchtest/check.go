package patchtest

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
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// quiet discards the scanner's log.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Findings scans img with db, as patchloop patch does without a report,
// and returns its fixable findings.
func Findings(t testing.TB, img v1.Image, db *vulndb.DB) []patch.Finding {
	t.Helper()
	rep, err := scan.Scan(context.Background(), img, db, scan.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return patch.FindingsFromReport(rep)
}

// PatchImage runs p on img for fs in a fresh work directory and returns
// img with the patch layer appended (img itself when the outcome has no
// layer), the outcome, and Patch's error.
func PatchImage(t testing.TB, p patch.Patcher, img v1.Image, fs []patch.Finding) (v1.Image, *patch.Outcome, error) {
	t.Helper()
	return PatchImageIn(t, p, img, fs, t.TempDir())
}

// PatchImageIn is PatchImage with the work directory given, for benchmarks
// that make it outside the timed loop.
func PatchImageIn(t testing.TB, p patch.Patcher, img v1.Image, fs []patch.Finding, workDir string) (v1.Image, *patch.Outcome, error) {
	t.Helper()
	out, err := p.Patch(context.Background(), img, patch.Request{Findings: fs, WorkDir: workDir})
	if err != nil || out.Layer == nil {
		return img, out, err
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	patched, err := patch.AppendLayer(img, out.Layer, out.LayerHistory, patch.Base{Name: "test", Digest: d}, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return patched, out, nil
}

// ReadFiles returns the content of the regular files among paths in img's
// final filesystem; absent files (and other kinds) are missing from the
// map.
func ReadFiles(t testing.TB, img v1.Image, paths ...string) map[string]string {
	t.Helper()
	v, err := imagefs.Open(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = v.Close() }()
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

// LayerHeaders returns the tar headers of a layer by name, without a
// directory's trailing slash.
func LayerHeaders(t testing.TB, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
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
