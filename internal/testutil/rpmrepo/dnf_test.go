package rpmrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepositoryJudgedByDNF(t *testing.T) {
	need(t, "dnf")
	repo := Repository{Path: "test/9/BaseOS/x86_64/os", Packages: []Package{hello("gzip"), {Name: "libfoo", Version: "1.2", Release: "1", Files: []File{{Path: "/usr/lib64/libfoo.so.1", Content: []byte("elf")}}}}}
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
	dnf := func(cache string) *exec.Cmd {
		cmd := exec.Command("dnf", "-y", "-q", "--installroot", filepath.Join(dir, "root"), "--releasever", "9", "--setopt=reposdir="+reposd,
			"--setopt=cachedir="+filepath.Join(dir, cache), "--setopt=logdir="+dir, "--disableplugin=*", "--setopt=skip_if_unavailable=False",
			"repoquery", "--qf", "%{name}-%{evr}.%{arch} %{sourcerpm}", "--repo", "test")
		cmd.Env = append(os.Environ(), "HOME="+dir, "LC_ALL=C")
		return cmd
	}
	b, err := dnf("cache").Output()
	if err != nil {
		t.Fatalf("dnf repoquery: %v", err)
	}
	out := string(b)
	for _, want := range []string{"hello-1:2.0-3.el9.x86_64 hello-2.0-3.el9.src.rpm", "libfoo-1.2-1.x86_64 libfoo-1.2-1.src.rpm"} {
		if !strings.Contains(out, want) {
			t.Errorf("dnf repoquery lacks %q:\n%s", want, out)
		}
	}
	// repomd.xml changed after signing: dnf refuses it (repo_gpgcheck=1).
	md := RepomdPath(repo.Path)
	srv.SetFile(md, append(srv.File(md), "<!-- changed -->\n"...))
	if b, err := dnf("cache2").CombinedOutput(); err == nil {
		t.Fatalf("dnf accepted repomd.xml changed after signing:\n%s", b)
	}
}
