package rpmmd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchloop/patchloop/internal/rpm"
)

const rockyRepo = `# Rocky-like repositories
[baseos]
name=Rocky Linux $releasever - BaseOS
mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=BaseOS-$releasever$rltype
#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/BaseOS/$basearch/os/
gpgcheck=1
enabled=1
countme=1
metadata_expire=6h
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9

[appstream]
name=Rocky Linux $releasever - AppStream
baseurl=http://dl.rockylinux.org/$contentdir/$releasever/AppStream/$basearch/os/
        https://mirror.example/${contentdir}/$releasever/AppStream/$basearch/os/
gpgcheck=1
repo_gpgcheck=yes
enabled=1
priority=10
excludepkgs=kernel* foo
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9,
  https://keys.example/KEY
  file:///etc/pki/../pki/rpm-gpg/other

[devel]
name=Rocky Linux $releasever - Devel
enabled=0
`

func TestImageRepos(t *testing.T) {
	files := map[string][]byte{
		"etc/yum.repos.d/rocky.repo":   []byte(rockyRepo),
		"etc/yum.repos.d/notes.txt":    []byte("[x]\nbaseurl=http://ignored/\n"),
		"etc/dnf/vars/contentdir":      []byte("pub/rocky\n"),
		"etc/dnf/vars/rltype":          []byte("\n"),
		"etc/dnf/dnf.conf":             []byte("[main]\ngpgcheck=1\ninstallonly_limit=3\nexclude=bad*\n\n[local]\nbaseurl=http://local/\n"),
		"etc/dnf/vars/not a var":       []byte("x"),
		"etc/zypp/repos.d/suse.repo":   []byte("[repo-oss]\nname=OSS\nbaseurl=http://download.opensuse.org/distribution/leap/$releasever/repo/\npath=/oss\ntype=rpm-md\npkg_gpgcheck=0\nautorefresh=1\n"),
		"etc/yum.repos.d/extras.repo":  []byte("[extras]\nmetalink=https://mirrors.example/metalink?repo=extras-$releasever_major&arch=$arch\n"),
		"etc/yum.repos.d/zz-yast.repo": []byte("[cd]\nbaseurl=http://cd/\ntype=yast2\n"),
	}
	repos, _, err := ImageRepos(files, "x86_64", "9")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Repo{}
	for _, r := range repos {
		got[r.ID] = r
	}
	if len(repos) != 7 || repos[0].ID != "local" {
		t.Fatalf("%d repositories, want 7, dnf.conf's first: %+v", len(repos), repos)
	}
	want := Repo{ID: "appstream", Name: "Rocky Linux 9 - AppStream", File: "etc/yum.repos.d/rocky.repo",
		BaseURLs: []string{"http://dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os/", "https://mirror.example/pub/rocky/9/AppStream/x86_64/os/"},
		Enabled:  true, GPGCheck: true, RepoGPGCheck: true, Priority: 10, Cost: 1000,
		GPGKeys: []string{"file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9", "https://keys.example/KEY", "file:///etc/pki/../pki/rpm-gpg/other"},
		Exclude: []string{"bad*", "kernel*", "foo"}}
	if d := cmp.Diff(want, got["appstream"]); d != "" {
		t.Errorf("appstream (-want +got):\n%s", d)
	}
	if m := got["baseos"].Mirrorlist; m != "https://mirrors.rockylinux.org/mirrorlist?arch=x86_64&repo=BaseOS-9" {
		t.Errorf("baseos mirrorlist %q", m)
	}
	if got["devel"].Enabled {
		t.Error("devel is enabled")
	}
	if m := got["extras"].Metalink; m != "https://mirrors.example/metalink?repo=extras-9&arch=x86_64" {
		t.Errorf("extras metalink %q", m)
	}
	if r := got["repo-oss"]; r.GPGCheck || r.BaseURLs[0] != "http://download.opensuse.org/distribution/leap/9/repo/oss" || !r.RPMMD() {
		t.Errorf("zypper repository %+v", r)
	}
	if got["cd"].RPMMD() {
		t.Error("a yast2 repository reads as rpm-md")
	}
	paths, remote, err := got["appstream"].KeyFiles()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9", "etc/pki/rpm-gpg/other"}, paths); d != "" {
		t.Errorf("key files (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"https://keys.example/KEY"}, remote); d != "" {
		t.Errorf("remote keys (-want +got):\n%s", d)
	}
	if !got["appstream"].Excluded("kernel-core") || got["appstream"].Excluded("bash") || !got["baseos"].Excluded("bad-thing") {
		t.Error("exclude globs not applied")
	}
	pinned := Repo{Exclude: []string{"openssl-3.0.7*"}, IncludePkgs: []string{"openssl*", "*.noarch"}}
	for _, tc := range []struct {
		p    Package
		hide bool
	}{
		{Package{Name: "openssl", Version: "3.0.7", Release: "27.el9", Arch: "x86_64"}, true},
		{Package{Name: "openssl", Version: "3.0.8", Release: "1.el9", Arch: "x86_64"}, false},
		{Package{Name: "tzdata", Version: "2024a", Release: "1.el9", Arch: "noarch"}, false},
		{Package{Name: "bash", Version: "5.1", Release: "1", Arch: "x86_64"}, true},
	} {
		if got := pinned.ExcludedPackage(&tc.p); got != tc.hide {
			t.Errorf("ExcludedPackage(%s) = %v, want %v", tc.p.NEVRA(), got, tc.hide)
		}
	}
}

func TestRepoFileErrors(t *testing.T) {
	for name, data := range map[string]string{
		"gpgcheck=maybe":      "[a]\nbaseurl=http://x/\ngpgcheck=maybe\n",
		"no baseurl":          "[a]\nname=x\n",
		"before any":          "baseurl=http://x/\n",
		"priority":            "[a]\nbaseurl=http://x/\npriority=high\n",
		"bad section header":  "[\n",
		"parent in baseurl":   "[a]\nbaseurl=http://x/pub/../../secret/\n",
		"encoded parent":      "[a]\nbaseurl=http://x/pub/%2e%2e/%2E%2E/secret/\n",
		"parent in metalink":  "[a]\nmetalink=http://x/a/../b?repo=x\n",
		"variable climbing":   "[a]\nbaseurl=http://x/pub/$climb/os/\n",
		"releasever climbing": "[a]\nmirrorlist=http://x/$releasever/list\n",
		"control character":   "[a]\nbaseurl=http://x/$crlf/\n",
	} {
		vars := NewVars("x86_64", "9")
		if name == "releasever climbing" {
			vars = NewVars("x86_64", "../..")
		}
		vars.AddFile("etc/dnf/vars/climb", []byte("../../secret\n"))
		vars["crlf"] = "a\x00b\x7f"
		_, err := ParseRepoFile("etc/yum.repos.d/t.repo", []byte(data), vars, Main{})
		if err == nil || !strings.Contains(err.Error(), "etc/yum.repos.d/t.repo") {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
}

func TestExpand(t *testing.T) {
	v := Vars{"releasever": "9", "basearch": "x86_64", "empty": ""}
	for in, want := range map[string]string{
		"$releasever/$basearch":          "9/x86_64",
		"${releasever}x":                 "9x",
		"$unknown/$releasever":           "$unknown/9",
		"${empty:-def}/${releasever:-x}": "def/9",
		"${releasever:+yes}${empty:+no}": "yes",
		"cost $5 $":                      "cost $5 $",
		"${unterminated":                 "${unterminated",
	} {
		if got := v.Expand(in); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetectReleasever(t *testing.T) {
	eq := func(name, v string) rpm.Dep { return rpm.Dep{Name: name, Flags: rpm.SenseEqual, Version: v} }
	rocky := ReleasePackage{Name: "rocky-release", Version: "9.3", Provides: []rpm.Dep{eq("rocky-release", "9.3-1.2.el9"), eq("system-release", "9.3-1.2.el9"), eq("system-release(releasever)", "9")}}
	photon := ReleasePackage{Name: "photon-release", Version: "5.0", Provides: []rpm.Dep{{Name: "system-release"}}}
	bash := ReleasePackage{Name: "bash", Version: "5.1", Provides: []rpm.Dep{eq("bash", "5.1")}}
	for _, tc := range []struct {
		pkgs []ReleasePackage
		want string
		ok   bool
	}{
		{[]ReleasePackage{bash, rocky}, "9", true},
		{[]ReleasePackage{photon}, "5.0", true},
		{[]ReleasePackage{bash}, "", false},
	} {
		got, ok := DetectReleasever(tc.pkgs)
		if got != tc.want || ok != tc.ok {
			t.Errorf("DetectReleasever(%v) = %q %v, want %q %v", tc.pkgs, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMirror(t *testing.T) {
	repos := []Repo{
		{ID: "baseos", Mirrorlist: "https://mirrors.rockylinux.org/mirrorlist?arch=x86_64&repo=BaseOS-9"},
		{ID: "appstream", BaseURLs: []string{"http://dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os/"}},
		{ID: "epel", Metalink: "https://mirrors.fedoraproject.org/metalink?repo=epel-9&arch=x86_64"},
		{ID: "other", BaseURLs: []string{"https://other.example/repo/"}},
	}
	got := Mirror(repos, "http://cache.local/all", map[string]string{
		"https://mirrors.rockylinux.org/mirrorlist": "http://m/rocky/9/BaseOS/x86_64/os/",
		"http://dl.rockylinux.org/pub/rocky":        "http://m/rocky",
		"epel":                                      "http://m/epel/9/",
	})
	want := [][]string{{"http://m/rocky/9/BaseOS/x86_64/os/"}, {"http://m/rocky/9/AppStream/x86_64/os/"}, {"http://m/epel/9/"}, {"http://cache.local/all/repo/"}}
	for i, r := range got {
		if d := cmp.Diff(want[i], r.BaseURLs); d != "" || r.Mirrorlist != "" || r.Metalink != "" {
			t.Errorf("%s: (-want +got):\n%s mirrorlist %q metalink %q", r.ID, d, r.Mirrorlist, r.Metalink)
		}
	}
	if repos[1].BaseURLs[0] != "http://dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os/" {
		t.Error("Mirror changed its input")
	}
}

func TestImageReposTDNF(t *testing.T) {
	// Azure Linux 3: tdnf.conf names repodir and gpgcheck; the repository
	// file leaves gpgcheck to it.
	files := map[string][]byte{
		"etc/tdnf/tdnf.conf": []byte("[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=0\nrepodir=/etc/yum.repos.d\ncachedir=/var/cache/tdnf\ndistroverpkg=azurelinux-release\n"),
		"etc/yum.repos.d/azurelinux-official-base.repo": []byte("[azurelinux-official-base]\nname=Azure Linux Official Base $releasever $basearch\n" +
			"baseurl=https://packages.microsoft.com/azurelinux/$releasever/prod/base/$basearch\ngpgkey=file:///etc/pki/rpm-gpg/MICROSOFT-RPM-GPG-KEY\nenabled=1\nskip_if_unavailable=True\nsslverify=1\n"),
	}
	repos, _, err := ImageRepos(files, "aarch64", "3.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 1 || !repos[0].GPGCheck || repos[0].BaseURLs[0] != "https://packages.microsoft.com/azurelinux/3.0/prod/base/aarch64" || !repos[0].SkipIfUnavailable {
		t.Errorf("repositories %+v", repos)
	}
	if g := ConfigGlobs(Main{ReposDirs: []string{"etc/yum.repos.d"}}); g[0] != "etc/yum.repos.d/*.repo" {
		t.Errorf("globs %v", g)
	}
}

func TestProductReleasever(t *testing.T) {
	prod := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<product schemeversion="0">
  <vendor>openSUSE</vendor>
  <name>Leap</name>
  <version>15.6</version>
  <release>0</release>
  <arch>x86_64</arch>
</product>
`)
	if v, ok := ProductReleasever(prod); v != "15.6" || !ok {
		t.Errorf("ProductReleasever = %q %v", v, ok)
	}
	if _, ok := ProductReleasever([]byte("not xml")); ok {
		t.Error("accepted garbage")
	}
	v := NewVars("x86_64", "15.6")
	if got := v.Expand("SLE-BCI/$releasever_major-SP$releasever_minor/$basearch"); got != "SLE-BCI/15-SP6/x86_64" {
		t.Errorf("SLE BCI URL %q", got)
	}
}
