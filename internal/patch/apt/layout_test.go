package apt_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// layerNames lists the entry names of a layer.
func layerNames(t testing.TB, l v1.Layer) []string {
	t.Helper()
	var names []string
	_, err := imagefs.WalkLayer(context.Background(), l, func(e imagefs.Entry, _ io.Reader) error {
		names = append(names, e.Header.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestPatchUsrMergedImage(t *testing.T) {
	pkg := func(v string) aptrepo.Package {
		files := []deb.File{
			{Path: "sbin/fixer", Data: []byte("fixer " + v), Mode: 0o755},
			{Path: "lib/fixer/plugin.so", Data: []byte("plugin " + v)},
		}
		if v == "1.0-1" {
			files = append(files, file("sbin/fixer-old", "old"))
		}
		return aptrepo.Package{Name: "fixer", Version: v, Files: files}
	}
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{pkg("1.0-2")}}}})
	spec := simpleImage(t, repo, []string{"bookworm"}, pkg("1.0-1"))
	spec.UsrMerged = true
	img := patchtest.Image(t, spec)
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-0002", PkgName: "fixer", InstalledVersion: "1.0-1", FixedVersion: "1.0-2"}}
	patched, out := patchImage(t, newPatcher(t, apt.Options{}), img, fs)

	st := stat(t, patched, "sbin", "lib", "usr/sbin/fixer", "usr/sbin/fixer-old")
	if st["sbin"].Kind != imagefs.KindSymlink || st["lib"].Kind != imagefs.KindSymlink {
		t.Fatalf("sbin is %v, lib is %v; want symlinks", st["sbin"].Kind, st["lib"].Kind)
	}
	if st["usr/sbin/fixer-old"].Kind != imagefs.KindAbsent {
		t.Errorf("usr/sbin/fixer-old is %v, want removed", st["usr/sbin/fixer-old"].Kind)
	}
	got := patchtest.ReadFiles(t, patched, "usr/sbin/fixer", "sbin/fixer", "usr/lib/fixer/plugin.so")
	if got["usr/sbin/fixer"] != "fixer 1.0-2" || got["sbin/fixer"] != "fixer 1.0-2" || got["usr/lib/fixer/plugin.so"] != "plugin 1.0-2" {
		t.Errorf("files = %q", got)
	}
	for _, n := range layerNames(t, out.Layer) {
		first, _, _ := strings.Cut(strings.TrimSuffix(n, "/"), "/")
		if first == "sbin" || first == "lib" || first == "bin" {
			t.Errorf("layer entry %q would replace the usr-merge symlink", n)
		}
	}
	// The database keeps the package's own paths, as dpkg records them.
	list := patchtest.ReadFiles(t, patched, "var/lib/dpkg/info/fixer.list")["var/lib/dpkg/info/fixer.list"]
	if !strings.Contains(list, "\n/sbin/fixer\n") {
		t.Errorf("fixer.list = %q", list)
	}
}

func TestPatchDistrolessImage(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-1")}},
		{Name: "bookworm-updates"},
		{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	// No sources list and no keyring: the default sources of Debian 12,
	// sent to the test repository, and a keyring given by the user.
	img := patchtest.Image(t, patchtest.ImageSpec{
		Release:    patchtest.Bookworm,
		Distroless: true,
		Packages:   []aptrepo.Package{hello("1.0-1"), {Name: "base-files", Version: "12.4"}},
	})
	kr, err := apt.LoadKeyring(context.Background(), repo.KeyringPath)
	if err != nil {
		t.Fatal(err)
	}
	db := patchtest.Database(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"})
	p := newPatcher(t, apt.Options{Mirror: repo.URL, Keyring: kr})
	patched, out := patchImage(t, p, img, patchtest.Findings(t, img, db))
	if len(out.Updates) != 1 {
		t.Fatalf("updates = %+v", out.Updates)
	}
	mustNoFindings(t, patched, db)
	got := patchtest.ReadFiles(t, patched, "var/lib/dpkg/status.d/hello", "var/lib/dpkg/status.d/hello.md5sums", "var/lib/dpkg/status", "usr/bin/hello")
	if rec := record(t, got["var/lib/dpkg/status.d/hello"], "hello"); rec.Get("Version") != "1.0-2" {
		t.Errorf("status.d/hello = %q", got["var/lib/dpkg/status.d/hello"])
	}
	if !strings.Contains(got["var/lib/dpkg/status.d/hello.md5sums"], "usr/bin/hello") {
		t.Errorf("status.d/hello.md5sums = %q", got["var/lib/dpkg/status.d/hello.md5sums"])
	}
	if _, ok := got["var/lib/dpkg/status"]; ok {
		t.Error("a status file appeared on a distroless image")
	}
	for _, n := range layerNames(t, out.Layer) {
		if strings.HasPrefix(n, "var/lib/dpkg/info") {
			t.Errorf("layer writes %s on a distroless image", n)
		}
	}

	t.Run("host keyring", func(t *testing.T) {
		hostDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(hostDir, "debian-archive-keyring.gpg"), repo.Keyring, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := newPatcher(t, apt.Options{Mirror: repo.URL, HostKeyringDir: hostDir}).Patch(context.Background(), img, patch.Request{Findings: patchtest.Findings(t, img, db), DryRun: true})
		if err != nil || len(out.Updates) != 1 {
			t.Fatalf("outcome = %+v, err = %v", out, err)
		}
	})
	t.Run("no keyring", func(t *testing.T) {
		_, err := newPatcher(t, apt.Options{Mirror: repo.URL}).Patch(context.Background(), img, patch.Request{Findings: patchtest.Findings(t, img, db), DryRun: true})
		if err == nil || !strings.Contains(err.Error(), "--keyring") {
			t.Fatalf("err = %v, want a hint to pass --keyring", err)
		}
	})
}

func TestPatchKeepsModifiedConffile(t *testing.T) {
	pkg := func(v string) aptrepo.Package {
		return aptrepo.Package{Name: "daemon", Version: v, Files: []deb.File{
			{Path: "etc/daemon.conf", Data: []byte("# shipped by " + v + "\nport=80\n"), Conffile: true},
			{Path: "etc/daemon/untouched.conf", Data: []byte("# untouched " + v + "\n"), Conffile: true},
			{Path: "usr/sbin/daemon", Data: []byte("daemon " + v), Mode: 0o755},
		}}
	}
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{pkg("2.0-2")}}}})
	spec := simpleImage(t, repo, []string{"bookworm"}, pkg("2.0-1"))
	spec.Changes = map[string]string{"etc/daemon.conf": "# mine\nport=8080\n"}
	img := patchtest.Image(t, spec)
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-0003", PkgName: "daemon", InstalledVersion: "2.0-1", FixedVersion: "2.0-2"}}
	patched, _ := patchImage(t, newPatcher(t, apt.Options{}), img, fs)
	got := patchtest.ReadFiles(t, patched, "etc/daemon.conf", "etc/daemon.conf.dpkg-dist", "etc/daemon/untouched.conf", "usr/sbin/daemon", "var/lib/dpkg/status")
	if got["etc/daemon.conf"] != "# mine\nport=8080\n" {
		t.Errorf("etc/daemon.conf = %q, want the user's version", got["etc/daemon.conf"])
	}
	if got["etc/daemon.conf.dpkg-dist"] != "# shipped by 2.0-2\nport=80\n" {
		t.Errorf("etc/daemon.conf.dpkg-dist = %q", got["etc/daemon.conf.dpkg-dist"])
	}
	if got["etc/daemon/untouched.conf"] != "# untouched 2.0-2\n" {
		t.Errorf("unmodified conffile not upgraded: %q", got["etc/daemon/untouched.conf"])
	}
	rec := record(t, got["var/lib/dpkg/status"], "daemon")
	// The record keeps the md5 of the shipped version, as dpkg does.
	if lines := rec.Lines("Conffiles"); len(lines) != 2 || !strings.HasPrefix(lines[0], "/etc/daemon.conf ") {
		t.Errorf("Conffiles = %q", lines)
	}
}
