package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// patchFixture pushes a Debian image with a vulnerable package and
// returns its reference, the database directory and the repository.
func patchFixture(t *testing.T) (ref, dbDir string, repo *aptrepo.Repo) {
	t.Helper()
	hello := func(v string) aptrepo.Package {
		return aptrepo.Package{Name: "hello", Version: v, Files: []deb.File{{Path: "usr/bin/hello", Data: []byte("hello " + v), Mode: 0o755}}}
	}
	repo = aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-1")}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	img := patchtest.Image(t, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    []aptrepo.Package{hello("1.0-1")},
		SourcesList: "deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian-security bookworm-security main\n",
		Keyring:     repo.Keyring,
	})
	host := registrytest.Start(t)
	ref = host + "/app:1.0"
	registrytest.Push(t, ref, img)
	dbDir = patchtest.WriteDatabase(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"})
	return ref, dbDir, repo
}

func TestPatchCommandJSONAndVEX(t *testing.T) {
	ref, db, repo := patchFixture(t)
	dataDir := t.TempDir()
	vex := filepath.Join(t.TempDir(), "out.vex.json")
	code, out, errOut := run(t, "", "patch", ref, "--db", db, "--data-dir", dataDir, "--apt-mirror", repo.URL, "--vex", vex, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res patch.Result
	decodeJSON(t, out, &res)
	if res.Tag != "1.0-1" || !strings.HasPrefix(res.Digest, "sha256:") || len(res.Updates) != 1 || res.Updates[0].To != "1.0-2" || len(res.Fixed) != 1 {
		t.Fatalf("result = %s", out)
	}
	data, err := os.ReadFile(vex)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || doc["@context"] != patch.VEXContext {
		t.Fatalf("vex = %s (%v)", data, err)
	}

	// The patched image has nothing left to fix: no tag, no VEX, exit 0.
	vex2 := filepath.Join(t.TempDir(), "none.vex.json")
	code, out, errOut = run(t, "", "patch", res.Reference, "--db", db, "--data-dir", dataDir, "--apt-mirror", repo.URL, "--vex", vex2)
	if code != ExitOK || !strings.Contains(out, "Nothing to patch") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if _, err := os.Stat(vex2); !os.IsNotExist(err) {
		t.Errorf("a VEX document was written for a no-op: %v", err)
	}
}

func TestPatchCommandDryRunWithReport(t *testing.T) {
	ref, db, repo := patchFixture(t)
	dataDir := t.TempDir()
	code, report, errOut := run(t, "", "scan", ref, "--db", db, "--data-dir", dataDir, "-o", "json")
	if code != ExitOK {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	reportPath := writeFile(t, "report.json", report)
	code, out, errOut := run(t, "", "patch", ref, "--report", reportPath, "--data-dir", dataDir,
		"--apt-mirror", "http://deb.debian.org/debian="+repo.URL, "--apt-mirror", "http://deb.debian.org/debian-security="+repo.URL,
		"--keyring", repo.KeyringPath, "--dry-run", "--tag-convention", "floating")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"hello", "1.0-1", "1.0-2", "fixes CVE-2024-0001", "would push " + strings.TrimSuffix(ref, ":1.0") + ":1.0-patched"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPatchCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"patch", "localhost:5000/a:1", "--tag-convention", "weekly"},
		{"patch", "localhost:5000/a:1", "--report", "r.json", "--db", "x"},
		{"patch", "localhost:5000/a:1", "--apt-mirror", "ftp://x"},
		{"patch", "localhost:5000/a:1", "--dry-run", "--vex", "v.json"},
		{"patch", "oci:./layout", "--report", "r.json"},
	} {
		if code, _, errOut := run(t, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, errOut)
		}
	}
}

func TestPatchCommandImageWithoutOS(t *testing.T) {
	_, db, _ := patchFixture(t)
	host := registrytest.Start(t)
	ref := host + "/static:1.0"
	registrytest.Push(t, ref, imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{"app/server": "binary"})))
	code, out, errOut := run(t, "", "patch", ref, "--db", db, "--data-dir", t.TempDir())
	if code != ExitError {
		t.Fatalf("exit %d, want %d; stdout %q; stderr %q", code, ExitError, out, errOut)
	}
	want := "image " + ref + " (linux/amd64): no patcher for this image: the image's OS is not patchable: no OS release file found"
	if !strings.Contains(errOut, want) || strings.Contains(out+errOut, "Nothing to patch") {
		t.Fatalf("stdout %q\nstderr %q\nwant %q", out, errOut, want)
	}
}

// A repository password in an image's sources never reaches the terminal.
func TestPatchCommandRedactsRepositoryPassword(t *testing.T) {
	_, db, repo := patchFixture(t)
	const secret = "s3cr3t-pw"
	cred := strings.Replace(repo.URL, "http://", "http://alice:"+secret+"@", 1)
	img := patchtest.Image(t, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    []aptrepo.Package{{Name: "hello", Version: "1.0-1", Files: []deb.File{{Path: "usr/bin/hello", Data: []byte("hello 1.0-1"), Mode: 0o755}}}},
		SourcesList: "deb " + cred + " bookworm main\ndeb " + cred + " bookworm-missing main\n",
		Keyring:     repo.Keyring,
	})
	ref := registrytest.Start(t) + "/cred:1.0"
	registrytest.Push(t, ref, img)
	code, out, errOut := run(t, "", "patch", ref, "--db", db, "--data-dir", t.TempDir())
	if code != ExitError {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out+errOut, secret) || !strings.Contains(errOut, "Error: ") || !strings.Contains(errOut, "http://alice:***@") {
		t.Fatalf("stdout %q\nstderr %q", out, errOut)
	}
}

// TestPatchCommandPicksPatcherByFamily patches an image whose report says
// Bottlerocket: the family comes from the report, and with no patcher for
// it the command fails naming the family and the supported ones, pushing
// nothing.
func TestPatchCommandPicksPatcherByFamily(t *testing.T) {
	host := registrytest.Start(t)
	ref := host + "/rocky:9"
	registrytest.Push(t, ref, imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":    "ID=rocky\nVERSION_ID=9.3\n",
		"etc/rocky-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
	})))
	report := `{"SchemaVersion": 2, "ArtifactName": "` + ref + `", "ArtifactType": "container_image",
		"Metadata": {"OS": {"Family": "bottlerocket", "Name": "1.20.0"}},
		"Results": [{"Target": "rocky (rocky 9.3)", "Class": "os-pkgs", "Type": "rocky", "Vulnerabilities": [
			{"VulnerabilityID": "CVE-2024-0001", "PkgName": "openssl-libs", "InstalledVersion": "1:3.0.7-24.el9", "FixedVersion": "1:3.0.7-25.el9"}]}]}`
	code, out, errOut := run(t, "", "patch", ref, "--report", writeFile(t, "report.json", report), "--data-dir", t.TempDir())
	if code == ExitOK || !strings.Contains(errOut, "no patcher for OS family bottlerocket; supported: alma, alpine, amazon, azurelinux, cbl-mariner, centos, centos-stream, chainguard, debian, fedora, opensuse-leap, opensuse-tumbleweed, oracle, photon, redhat, rocky, slem, sles, ubuntu, wolfi") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want a failure naming bottlerocket and the supported families", code, out, errOut)
	}
	repo, err := name.NewRepository(host + "/rocky")
	if err != nil {
		t.Fatal(err)
	}
	if tags, err := remote.List(repo); err != nil || strings.Join(tags, ",") != "9" {
		t.Errorf("tags after a failed patch: %v, %v", tags, err)
	}
}
