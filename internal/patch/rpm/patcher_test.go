package rpm_test

import (
	"archive/tar"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	rpmpatch "github.com/patchloop/patchloop/internal/patch/rpm"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/testutil/rpmimage"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

const baseRepo = "rocky/9/BaseOS/x86_64/os"

var (
	rockyRelease = rpmrepo.Package{Name: "rocky-release", Version: "9.3", Release: "1.2.el9", Arch: "noarch",
		Provides: []rpm.Dep{dep("system-release(releasever)", "=", "9")},
		Files:    []rpmrepo.File{file("/etc/rocky-release", "Rocky Linux release 9.3 (Blue Onyx)\n")}}
	// bash provides /bin/sh explicitly, as Rocky's does on its usr-merged
	// file system.
	bash = rpmrepo.Package{Name: "bash", Version: "5.1.8", Release: "6.el9", Provides: []rpm.Dep{dep("/bin/sh")},
		Files: []rpmrepo.File{{Path: "/usr/bin/bash", Content: []byte("bash"), Mode: 0o755}, {Path: "/usr/bin/sh", LinkTo: "bash"}}}
)

func opensslLibs(rel string) rpmrepo.Package {
	return rpmrepo.Package{Name: "openssl-libs", Epoch: "1", Version: "3.0.7", Release: rel, SourceRPM: "openssl-3.0.7-" + rel + ".src.rpm",
		Provides: []rpm.Dep{dep("libssl.so.3()(64bit)")},
		Files:    []rpmrepo.File{{Path: "/usr/lib64/libssl.so.3", Content: []byte("libssl " + rel), Mode: 0o755}}}
}

// opensslLibs32 is the i686 multilib twin of opensslLibs.
func opensslLibs32(rel string) rpmrepo.Package {
	p := opensslLibs(rel)
	p.Arch = "i686"
	p.Provides = []rpm.Dep{dep("libssl.so.3")}
	p.Files = []rpmrepo.File{{Path: "/usr/lib/libssl.so.3", Content: []byte("libssl i686 " + rel), Mode: 0o755}}
	return p
}

func openssl(rel string, requires ...rpm.Dep) rpmrepo.Package {
	return rpmrepo.Package{Name: "openssl", Epoch: "1", Version: "3.0.7", Release: rel, SourceRPM: "openssl-3.0.7-" + rel + ".src.rpm",
		Requires: append([]rpm.Dep{dep("openssl-libs(x86-64)", "=", "1:3.0.7-"+rel), dep("/usr/bin/sh")}, requires...),
		Files:    []rpmrepo.File{{Path: "/usr/bin/openssl", Content: []byte("openssl " + rel), Mode: 0o755}}}
}

var (
	helloOld = rpmrepo.Package{Name: "hello", Version: "1.0", Release: "1.el9", Files: []rpmrepo.File{
		{Path: "/usr/bin/hello", Content: []byte("hello 1"), Mode: 0o755},
		file("/usr/share/hello/old.txt", "dropped in 1.0-2"),
		{Path: "/etc/hello.conf", Content: []byte("greeting=hi\n"), Flags: rpm.FileConfig | rpm.FileNoReplace},
		{Path: "/etc/hello-plain.conf", Content: []byte("plain=1\n"), Flags: rpm.FileConfig},
		{Path: "/etc/hello-same.conf", Content: []byte("same=1\n"), Flags: rpm.FileConfig | rpm.FileNoReplace},
		{Path: "/var/log/hello.log", Flags: rpm.FileGhost},
	}}
	// helloData is merged into hello 1.0-2, which obsoletes it.
	helloData = rpmrepo.Package{Name: "hello-data", Version: "1.0", Release: "1.el9", Arch: "noarch", Files: []rpmrepo.File{
		file("/usr/share/hello/data.txt", "data"), file("/usr/share/hello/words.txt", "words")}}
	helloNew = rpmrepo.Package{Name: "hello", Version: "1.0", Release: "2.el9", PostIn: "/sbin/ldconfig\n",
		Obsoletes: []rpm.Dep{dep("hello-data", "<", "1.0-2.el9")}, Provides: []rpm.Dep{dep("hello-data", "=", "1.0-2.el9")}, Files: []rpmrepo.File{
			{Path: "/usr/bin/hello", Content: []byte("hello 2"), Mode: 0o755},
			{Path: "/usr/bin/hello-ping", Content: []byte("ping"), Mode: 0o755, Caps: "cap_net_raw=ep"},
			{Path: "/usr/bin/hello-again", HardLinkOf: "/usr/bin/hello", Mode: 0o755},
			{Path: "/usr/share/doc/hello/README", Content: []byte("docs"), Flags: rpm.FileDoc},
			{Path: "/sbin/hello-admin", Content: []byte("admin"), Mode: 0o755},
			file("/usr/share/hello/data.txt", "data 2"),
			{Path: "/etc/hello.conf", Content: []byte("greeting=hello\nnew=1\n"), Flags: rpm.FileConfig | rpm.FileNoReplace},
			{Path: "/etc/hello-plain.conf", Content: []byte("plain=2\n"), Flags: rpm.FileConfig},
			{Path: "/etc/hello-same.conf", Content: []byte("same=1\n"), Flags: rpm.FileConfig | rpm.FileNoReplace},
			{Path: "/var/log/hello.log", Flags: rpm.FileGhost},
		}}
	libnew = rpmrepo.Package{Name: "libnew", Version: "1.0", Release: "1.el9",
		Files: []rpmrepo.File{{Path: "/usr/lib64/libnew.so.1", Content: []byte("libnew"), Mode: 0o755}}}
	policies = rpmrepo.Package{Name: "crypto-policies", Version: "20240101", Release: "1.el9", Arch: "noarch",
		Files: []rpmrepo.File{{Path: "/etc/crypto-policies/config", Content: []byte("DEFAULT\n"), Flags: rpm.FileConfig | rpm.FileNoReplace}}}
	installed       = rocky(rockyRelease, bash, opensslLibs("24.el9"), opensslLibs32("24.el9"), openssl("24.el9"), helloOld, helloData)
	rockyAdvisories = []advisory{
		{"openssl", "CVE-2026-1000", "1:3.0.7-27.el9"}, {"openssl-libs", "CVE-2026-1000", "1:3.0.7-27.el9"},
		{"hello", "CVE-2026-2000", "1.0-2.el9"},
	}
	// userChanges are edits the image made on top of the packages.
	userChanges = map[string]string{"etc/hello.conf": "greeting=mine\n", "etc/hello-plain.conf": "plain=mine\n", "etc/hello-same.conf": "same=mine\n"}
)

// rockyDNFConf is Rocky 9's container image etc/dnf/dnf.conf: no
// documentation installed.
const rockyDNFConf = "[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\nskip_if_unavailable=False\ntsflags=nodocs\n"

// repoPackages are the packages the test repository serves.
func repoPackages() []rpmrepo.Package {
	return append(slices.Clone(installed), rocky(opensslLibs("27.el9"), openssl("27.el9", dep("libnew", ">=", "1.0"), dep("(crypto-policies or crypto-policies-compat)")),
		opensslLibs("26.el9"), opensslLibs32("27.el9"), helloNew, libnew, policies)...)
}

// rocky sets Rocky's vendor on packages, as the scanner expects of
// packages of the distribution.
func rocky(ps ...rpmrepo.Package) []rpmrepo.Package {
	out := make([]rpmrepo.Package, len(ps))
	for i, p := range ps {
		p.Vendor = "Rocky Enterprise Software Foundation"
		out[i] = p
	}
	return out
}

// rockySetup serves the repository and builds a Rocky 9-like image.
func rockySetup(t *testing.T, repo rpmrepo.Repository, spec rpmimage.Spec) (*rpmrepo.Server, rpmimage.Spec) {
	t.Helper()
	if repo.Path == "" {
		repo.Path = baseRepo
	}
	if repo.Packages == nil {
		repo.Packages = repoPackages()
	}
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{repo}})
	if spec.Packages == nil {
		spec.Packages = installed
	}
	if spec.Repos == nil {
		spec.Repos = map[string][]byte{"rocky.repo": rpmrepo.RepoFile("baseos", srv.RepoURL(baseRepo))}
	}
	if spec.Changes == nil {
		spec.Changes = userChanges
	}
	if spec.MainConf == "" {
		spec.MainConf = rockyDNFConf
	}
	return srv, spec
}

func TestPatchRocky(t *testing.T) {
	t.Parallel()
	_, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{})
	img := rpmimage.Image(t, spec)
	db := database(t, "rocky 9", "rocky", rockyAdvisories...)
	fs := findings(t, img, db)
	if len(fs) != 3 {
		t.Fatalf("findings before patching: %+v", fs)
	}
	patched, out, err := patchImage(t, newPatcher(t, rpmpatchOptions()), img, fs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range out.Updates {
		got = append(got, u.Name+"."+u.Arch+" "+u.From+" -> "+u.To+": "+u.Reason)
	}
	want := []string{
		"crypto-policies.noarch  -> 20240101-1.el9: new dependency of openssl",
		"hello.x86_64 1.0-1.el9 -> 1.0-2.el9: fixes CVE-2026-2000; obsoletes hello-data-1.0-1.el9.noarch",
		"libnew.x86_64  -> 1.0-1.el9: new dependency of openssl",
		"openssl.x86_64 1:3.0.7-24.el9 -> 1:3.0.7-27.el9: fixes CVE-2026-1000",
		"openssl-libs.i686 1:3.0.7-24.el9 -> 1:3.0.7-27.el9: fixes CVE-2026-1000",
		"openssl-libs.x86_64 1:3.0.7-24.el9 -> 1:3.0.7-27.el9: fixes CVE-2026-1000",
	}
	if !slices.Equal(got, want) {
		t.Errorf("updates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(out.SkippedScripts) != 1 || out.SkippedScripts[0].Package != "hello" || !slices.Equal(out.SkippedScripts[0].Scripts, []string{"%post"}) {
		t.Errorf("skipped scripts %+v", out.SkippedScripts)
	}
	if !slices.Equal(out.Fixed, []string{"CVE-2026-1000", "CVE-2026-2000"}) || len(out.Unfixed) != 0 {
		t.Errorf("fixed %v unfixed %+v", out.Fixed, out.Unfixed)
	}

	if left := findings(t, patched, db); len(left) > 0 {
		t.Errorf("fixable findings after patching: %+v", left)
	}

	files := read(t, patched, "usr/bin/hello", "usr/bin/hello-ping", "usr/share/hello/old.txt", "etc/hello.conf", "etc/hello.conf.rpmnew",
		"etc/hello-plain.conf", "etc/hello-plain.conf.rpmsave", "etc/hello-same.conf", "etc/hello-same.conf.rpmnew",
		"usr/lib64/libnew.so.1", "usr/lib64/libssl.so.3", "var/log/hello.log", "etc/crypto-policies/config",
		"usr/share/hello/data.txt", "usr/share/hello/words.txt", "usr/lib/libssl.so.3")
	for p, want := range map[string]string{
		"usr/bin/hello":                "hello 2",
		"usr/lib64/libnew.so.1":        "libnew",
		"usr/lib64/libssl.so.3":        "libssl 27.el9",
		"etc/hello.conf":               "greeting=mine\n",
		"etc/hello.conf.rpmnew":        "greeting=hello\nnew=1\n",
		"etc/hello-plain.conf":         "plain=2\n",
		"etc/hello-plain.conf.rpmsave": "plain=mine\n",
		"etc/hello-same.conf":          "same=mine\n",
		"etc/crypto-policies/config":   "DEFAULT\n",
	} {
		if files[p] != want {
			t.Errorf("/%s = %q, want %q", p, files[p], want)
		}
	}
	for _, p := range []string{"usr/share/hello/old.txt", "usr/share/hello/words.txt", "etc/hello-same.conf.rpmnew", "var/log/hello.log", "usr/share/doc/hello/README"} {
		if _, ok := files[p]; ok {
			t.Errorf("/%s is in the patched image", p)
		}
	}
	hdrs := layerHeaders(t, out.Layer)
	if _, ok := hdrs["usr/share/hello/.wh.old.txt"]; !ok {
		t.Errorf("no whiteout for the dropped file; layer: %v", keys(hdrs))
	}
	if h := hdrs["usr/bin/hello-ping"]; h == nil || h.PAXRecords["SCHILY.xattr.security.capability"] == "" || h.Mode != 0o755 {
		t.Errorf("hello-ping header %+v", h)
	}
	if h := hdrs["usr/bin/hello-again"]; h == nil || h.Typeflag != tar.TypeLink || h.Linkname != "usr/bin/hello" {
		if h2 := hdrs["usr/bin/hello"]; h == nil || h2 == nil || h2.Typeflag != tar.TypeLink || h2.Linkname != "usr/bin/hello-again" {
			t.Errorf("hard link: hello-again %+v, hello %+v", h, hdrs["usr/bin/hello"])
		}
	}
	// Usr-merge: /sbin is a symlink to usr/sbin in the image.
	if _, ok := hdrs["usr/sbin/hello-admin"]; !ok {
		t.Errorf("/sbin/hello-admin not written at usr/sbin; layer: %v", keys(hdrs))
	}
	if _, ok := hdrs["sbin"]; ok {
		t.Error("the layer replaces the sbin symlink")
	}
	if _, ok := hdrs["var/lib/rpm/rpmdb.sqlite"]; !ok {
		t.Errorf("no database in the layer: %v", keys(hdrs))
	}
}

func rpmpatchOptions() rpmpatch.Options { return rpmpatch.Options{} }

func keys[T any](m map[string]T) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var _ = errors.Is
var _ = patch.ReasonNoFix

// TestPatchIsDeterministic patches the same image twice, with fresh
// caches: the layers are byte for byte the same.
func TestPatchIsDeterministic(t *testing.T) {
	t.Parallel()
	_, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{})
	img := rpmimage.Image(t, spec)
	fs := append(slices.Clone(helloFindings), patch.Finding{VulnerabilityID: "CVE-2026-1000", PkgName: "openssl-libs", FixedVersion: "1:3.0.7-27.el9"})
	var digests []string
	for range 2 {
		_, out, err := patchImage(t, newPatcher(t, rpmpatch.Options{}), img, fs)
		if err != nil {
			t.Fatal(err)
		}
		d, err := out.Layer.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d.String())
	}
	if digests[0] != digests[1] {
		t.Errorf("layer digests differ: %v", digests)
	}
}

// TestPatchFileDependencyFromFilelists: the new version requires a file
// that primary.xml does not list (not under /etc or a bin directory); the
// repository's filelists.xml names the package that ships it.
func TestPatchFileDependencyFromFilelists(t *testing.T) {
	t.Parallel()
	hello := rocky(helloNew)[0]
	hello.Requires = append(hello.Requires, dep("/usr/libexec/hello/helper"))
	helper := rocky(rpmrepo.Package{Name: "hello-helper", Version: "1.0", Release: "1.el9",
		Files: []rpmrepo.File{{Path: "/usr/libexec/hello/helper", Content: []byte("helper"), Mode: 0o755}}})[0]
	_, spec := rockySetup(t, rpmrepo.Repository{Packages: append(slices.Clone(installed), hello, helper)}, rpmimage.Spec{})
	patched, out, err := patchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range out.Updates {
		got = append(got, u.Name+": "+u.Reason)
	}
	if want := []string{"hello: fixes CVE-2026-2000; obsoletes hello-data-1.0-1.el9.noarch", "hello-helper: new dependency of hello"}; !slices.Equal(got, want) {
		t.Errorf("updates %v, want %v", got, want)
	}
	if read(t, patched, "usr/libexec/hello/helper")["usr/libexec/hello/helper"] != "helper" {
		t.Error("the helper is not in the patched image")
	}
}
