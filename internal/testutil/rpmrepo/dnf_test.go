package rpmrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/rpm"
)

func TestRepositoryJudgedByDNF(t *testing.T) {
	need(t, "dnf")
	libfoo := Package{Name: "libfoo", Version: "1.2", Release: "1", Compressor: "zstd", Files: []File{{Path: "/usr/lib64/libfoo.so.1", Content: []byte("elf")}, {Path: "/etc/libfoo.conf", Content: []byte("x=1\n"), Flags: rpm.FileConfig | rpm.FileNoReplace}}}
	evil := Package{Name: "evil", Version: "1", Release: "1", Key: StrangerKey(), Files: []File{{Path: "/usr/bin/evil", Content: []byte("x")}}}
	modular := Package{Name: "tool", Version: "2.0", Release: "1.module+el9", Files: []File{{Path: "/usr/bin/tool", Content: []byte("t")}}}
	repo := Repository{Path: "test/9/BaseOS/x86_64/os", Packages: []Package{hello("gzip"), libfoo, evil, modular},
		Modules: []ModuleStream{{Name: "tool", Stream: "2", Packages: []string{"tool-0:2.0-1.module+el9.x86_64"}, Default: true}}}
	srv := New(t, Config{Repositories: []Repository{repo}})
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.asc")
	reposd := filepath.Join(dir, "repos.d")
	if err := os.MkdirAll(reposd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, RepoKey().PublicArmored(), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(RepoFile("test", srv.RepoURL(repo.Path))), "file:///"+KeyPath, "file://"+keyFile, 1)
	if err := os.WriteFile(filepath.Join(reposd, "test.repo"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Debian's rpm keeps its database under ~/.rpmdb unless told.
	if err := os.WriteFile(filepath.Join(dir, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	dnf := func(cache string, args ...string) *exec.Cmd {
		cmd := exec.Command("dnf", append([]string{"-y", "-q", "--installroot", root, "--releasever", "9", "--setopt=reposdir=" + reposd,
			"--setopt=cachedir=" + filepath.Join(dir, cache), "--setopt=logdir=" + dir, "--disableplugin=*", "--setopt=skip_if_unavailable=False"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "LC_ALL=C")
		return cmd
	}
	query := []string{"repoquery", "--qf", "%{name}-%{evr}.%{arch} %{sourcerpm}", "--repo", "test"}
	b, err := dnf("cache", query...).Output()
	if err != nil {
		t.Fatalf("dnf repoquery: %v", err)
	}
	out := string(b)
	for _, want := range []string{"hello-1:2.0-3.el9.x86_64 hello-2.0-3.el9.src.rpm", "libfoo-1.2-1.x86_64 libfoo-1.2-1.src.rpm"} {
		if !strings.Contains(out, want) {
			t.Errorf("dnf repoquery lacks %q:\n%s", want, out)
		}
	}
	// dnf reads modules.yaml: the stream, its default, its package.
	if b, err := dnf("cache", "module", "list", "--repo", "test").CombinedOutput(); err != nil || !regexp.MustCompile(`(?m)^tool\s+2 \[d\]`).Match(b) {
		t.Errorf("dnf module list: %v\n%s", err, b)
	}
	if b, err := dnf("cache", "module", "info", "tool:2").CombinedOutput(); err != nil || !strings.Contains(string(b), "tool-0:2.0-1.module+el9.x86_64") {
		t.Errorf("dnf module info: %v\n%s", err, b)
	}
	// dnf installs a package with gpgcheck=1, and refuses one signed by
	// a key the repository does not name.
	if b, err := dnf("cache", "install", "libfoo").CombinedOutput(); err != nil {
		t.Fatalf("dnf install libfoo: %v\n%s", err, b)
	}
	if got, err := os.ReadFile(filepath.Join(root, "etc/libfoo.conf")); err != nil || string(got) != "x=1\n" {
		t.Errorf("installed /etc/libfoo.conf: %q %v", got, err)
	}
	if b, err := dnf("cache", "install", "evil").CombinedOutput(); err == nil || !strings.Contains(string(b), "GPG") {
		t.Fatalf("dnf install of a package signed by a foreign key: %v\n%s", err, b)
	}
	// repomd.xml changed after signing: dnf refuses it (repo_gpgcheck=1).
	md := RepomdPath(repo.Path)
	srv.SetFile(md, append(srv.File(md), "<!-- changed -->\n"...))
	if b, err := dnf("cache2", query...).CombinedOutput(); err == nil {
		t.Fatalf("dnf accepted repomd.xml changed after signing:\n%s", b)
	}
}
