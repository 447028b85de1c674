package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/workflow"
)

var embeddedListening = regexp.MustCompile(`Embedded registry listening on http://(\S+)`)

// TestOfflineQuickStart follows the README's offline quick start with
// nothing but loopback: the vulnerability database from a db.tar.gz file
// (db import), serve with its embedded registry and a database repository
// that cannot answer (so any download attempt would show), an image pushed
// from an OCI layout and another from a docker save tarball (image push),
// then a workflow whose cycle scans and patches, and a CLI scan.
func TestOfflineQuickStart(t *testing.T) {
	hello := func(v string) aptrepo.Package {
		return aptrepo.Package{Name: "hello", Version: v, Files: []deb.File{{Path: "usr/bin/hello", Data: []byte("hello " + v), Mode: 0o755}}}
	}
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-1")}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	image := func(v string) v1.Image {
		return patchtest.Image(t, patchtest.ImageSpec{
			Release:     patchtest.Bookworm,
			Packages:    []aptrepo.Package{hello(v)},
			SourcesList: "deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian-security bookworm-security main\n",
			Keyring:     repo.Keyring,
		})
	}
	vulnerable, clean := image("1.0-1"), image("1.0-2")

	// What a user carries over from a machine with internet access: the
	// database artifact's layer, an OCI layout and a docker save tarball.
	carried := t.TempDir()
	layer, err := vulndbtest.Pack(patchtest.WriteDatabase(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"}))
	if err != nil {
		t.Fatal(err)
	}
	dbFile := filepath.Join(carried, "db.tar.gz")
	if err := os.WriteFile(dbFile, layer, 0o644); err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(carried, "app-layout")
	p, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(vulnerable, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "1.0"})); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(carried, "quiet.tar")
	tag, _ := name.NewTag("quiet:1.0")
	if err := tarball.WriteToFile(tarPath, tag, clean); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	code, out, errs := run(t, "", "db", "import", dbFile, "--data-dir", dir)
	if code != 0 || !strings.HasPrefix(out, "Imported the vulnerability database from "+dbFile+" (sha256:") {
		t.Fatalf("db import: exit %d\n%s%s", code, out, errs)
	}

	unreachable := "127.0.0.1:1/trivy-db"
	errb := serveInProcess(t, "--data-dir", dir, "--embedded-registry", "127.0.0.1:0", "--db-repository", unreachable, "--apt-mirror", repo.URL)
	m := embeddedListening.FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no embedded registry address:\n%s", errb)
	}
	host := strings.Replace(m[1], "127.0.0.1", "localhost", 1)

	wantDigest, _ := vulnerable.Digest()
	code, out, errs = run(t, "", "image", "push", layoutDir, host+"/app:1.0")
	if want := host + "/app:1.0@" + wantDigest.String() + "\n"; code != 0 || out != want {
		t.Fatalf("image push layout: exit %d\n%q, want %q\n%s", code, out, want, errs)
	}
	code, out, errs = run(t, "", "image", "push", tarPath, host+"/quiet:1.0")
	if code != 0 || !strings.HasPrefix(out, host+"/quiet:1.0@sha256:") {
		t.Fatalf("image push tarball: exit %d\n%s%s", code, out, errs)
	}

	cfg := writeFile(t, "c.json", `{"version": "v1", "repositories": [{"repository": "app", "tags": ["*"]}, {"repository": "quiet", "tags": ["1.0"]}]}`)
	code, out, errs = run(t, "", "workflow", "create", "-r", host, "-t", "continuouspatchv1",
		"--config", cfg, "--schedule", "1d", "--run-immediately", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	images := waitForImages(t, host, dir, func(images []workflow.ImageStatus) bool {
		return len(images) == 2 && images[0].Patch != nil && images[0].Patch.FinishedAt != nil &&
			images[1].Scan != nil && images[1].Scan.FinishedAt != nil
	})
	app, quiet := images[0], images[1]
	if app.Patch.Status != workflow.StatusSucceeded || app.LastPatchedImage != "app:1.0-1" || app.Scan.Result.Vulnerabilities != 1 {
		t.Fatalf("app: %+v scan %+v patch %+v", app, app.Scan, app.Patch)
	}
	if quiet.Scan.Status != workflow.StatusSucceeded || quiet.Scan.Result.Vulnerabilities != 0 {
		t.Fatalf("quiet: %+v scan %+v", quiet, quiet.Scan)
	}

	// The CLI scans with the imported database as well.
	code, out, errs = run(t, "", "scan", host+"/app:1.0", "--data-dir", dir, "--db-repository", unreachable)
	if code != 0 || !strings.Contains(out, "CVE-2024-0001") {
		t.Fatalf("scan: exit %d\n%s%s", code, out, errs)
	}
	// Nothing tried the network: the imported database counted as current.
	if !strings.Contains(errb.String(), "is up to date: downloaded less than") {
		t.Errorf("serve did not find the imported database current:\n%s", errb)
	}
	for _, log := range []string{errb.String(), errs} {
		if strings.Contains(log, unreachable) || strings.Contains(log, "download failed") || strings.Contains(log, "update failed") {
			t.Errorf("a database download was attempted:\n%s", log)
		}
	}
}
