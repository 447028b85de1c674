package rpm_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	gorpmdb "github.com/anchore/go-rpmdb/pkg"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	rpmpatch "github.com/patchloop/patchloop/internal/patch/rpm"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/rpmimage"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// azure sets Microsoft's vendor on packages.
func azure(ps ...rpmrepo.Package) []rpmrepo.Package {
	out := make([]rpmrepo.Package, len(ps))
	for i, p := range ps {
		p.Vendor = "Microsoft Corporation"
		out[i] = p
	}
	return out
}

// TestPatchAzureLinux patches an Azure Linux 3.0-like image: tdnf's
// configuration (etc/tdnf/tdnf.conf, repositories in etc/yum.repos.d),
// advisories keyed by source package, and rescans it clean.
func TestPatchAzureLinux(t *testing.T) {
	t.Parallel()
	const repoPath = "azurelinux/3.0/prod/base/x86_64"
	curl := func(rel string, req ...rpm.Dep) []rpmrepo.Package {
		src := "curl-8.8.0-" + rel + ".src.rpm"
		return azure(
			rpmrepo.Package{Name: "curl", Version: "8.8.0", Release: rel, SourceRPM: src, Requires: append([]rpm.Dep{dep("curl-libs", "=", "8.8.0-"+rel)}, req...),
				Files: []rpmrepo.File{{Path: "/usr/bin/curl", Content: []byte("curl " + rel), Mode: 0o755}}},
			rpmrepo.Package{Name: "curl-libs", Version: "8.8.0", Release: rel, SourceRPM: src,
				Files: []rpmrepo.File{{Path: "/usr/lib/libcurl.so.4", Content: []byte("libcurl " + rel), Mode: 0o755}}},
		)
	}
	release := azure(rpmrepo.Package{Name: "azurelinux-release", Version: "3.0", Release: "20.azl3", Arch: "noarch",
		Provides: []rpm.Dep{dep("system-release(releasever)", "=", "3.0")}, Files: []rpmrepo.File{file("/etc/azurelinux-release", "Azure Linux 3.0\n")}})
	inst := slices.Concat(release, curl("1.azl3"))
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: slices.Concat(inst, curl("3.azl3", dep("(ca-certificates-base if openssl)")))}}})
	repo := "[azurelinux-official-base]\nname=Azure Linux Official Base $releasever $basearch\nbaseurl=" + srv.URL() + "/azurelinux/$releasever/prod/base/$basearch\n" +
		"gpgkey=file:///" + rpmrepo.KeyPath + "\ngpgcheck=1\nrepo_gpgcheck=1\nenabled=1\nskip_if_unavailable=True\nsslverify=1\n"
	img := rpmimage.Image(t, rpmimage.Spec{
		OSRelease: rpmimage.AzureRelease, Packages: inst,
		Repos: map[string][]byte{"azurelinux-official-base.repo": []byte(repo)},
		Files: map[string]string{"etc/tdnf/tdnf.conf": "[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=0\nrepodir=/etc/yum.repos.d\ncachedir=/var/cache/tdnf\n"},
	})
	db := database(t, "Azure Linux 3.0", "azure", advisory{"curl", "CVE-2026-3000", "8.8.0-3.azl3"})
	fs := patchtest.Findings(t, img, db)
	if len(fs) != 2 {
		t.Fatalf("findings before patching: %+v", fs)
	}
	patched, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), img, fs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range out.Updates {
		got = append(got, u.Name+" "+u.From+" -> "+u.To)
	}
	if want := []string{"curl 8.8.0-1.azl3 -> 8.8.0-3.azl3", "curl-libs 8.8.0-1.azl3 -> 8.8.0-3.azl3"}; !slices.Equal(got, want) {
		t.Errorf("updates %v, want %v", got, want)
	}
	if left := patchtest.Findings(t, patched, db); len(left) > 0 {
		t.Errorf("fixable findings after patching: %+v", left)
	}
	if got := patchtest.ReadFiles(t, patched, "usr/lib/libcurl.so.4")["usr/lib/libcurl.so.4"]; got != "libcurl 3.azl3" {
		t.Errorf("libcurl is %q", got)
	}
	judgeWithRPM(t, patched, []string{"azurelinux-release-3.0-20.azl3.noarch", "curl-8.8.0-3.azl3.x86_64", "curl-libs-8.8.0-3.azl3.x86_64"})
}

// TestPatchBerkeleyDB plans an EL8-like image whose database is Berkeley
// DB (a real one, from ospkg's fixtures), and refuses to write it.
func TestPatchBerkeleyDB(t *testing.T) {
	t.Parallel()
	bdb, err := os.ReadFile("../../ospkg/testdata/rpm/Packages")
	if err != nil {
		t.Fatal(err)
	}
	hello := rpmrepo.Package{Name: "hello", Epoch: "1", Version: "1.2.3", Release: "6.el9", Vendor: "Rocky Enterprise Software Foundation",
		Files: []rpmrepo.File{{Path: "/usr/bin/hello", Content: []byte("hello 6"), Mode: 0o755}}}
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: baseRepo, Packages: []rpmrepo.Package{hello}}}})
	img := imagetest.Image(t, imagetest.Layer(t, append(imagetest.FileEntries(map[string]string{
		"etc/os-release":                         rpmimage.RockyRelease,
		"etc/yum.repos.d/rocky.repo":             string(rpmrepo.RepoFile("baseos", srv.RepoURL(baseRepo))),
		strings.TrimPrefix(rpmrepo.KeyPath, "/"): string(rpmrepo.RepoKey().PublicArmored()),
	}), imagetest.Entry{Name: "var/lib/rpm/Packages", Body: string(bdb)})...))
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-1000", PkgName: "hello", InstalledVersion: "1:1.2.3-4.el9", FixedVersion: "1:1.2.3-6.el9"}}
	p := newPatcher(t, rpmpatch.Options{})
	out, err := p.Patch(context.Background(), img, patch.Request{Findings: fs, DryRun: true, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Updates) != 1 || out.Updates[0].To != "1:1.2.3-6.el9" {
		t.Fatalf("dry run updates %+v", out.Updates)
	}
	_, err = p.Patch(context.Background(), img, patch.Request{Findings: fs, WorkDir: t.TempDir()})
	if !errors.Is(err, rpmpatch.ErrBerkeleyDB) || !patch.IsPermanent(err) || !strings.Contains(err.Error(), "rpmdb format BerkeleyDB is read-only in Patchloop") {
		t.Fatalf("err %v, want the permanent Berkeley DB error", err)
	}
}

// TestPatchOpenSUSENDB patches an openSUSE Leap 15.6-like image: an NDB
// database in usr/lib/sysimage/rpm (var/lib/rpm a symlink to it), zypper's
// repositories in etc/zypp/repos.d; rescans it clean and reads the new
// database back with anchore's go-rpmdb.
func TestPatchOpenSUSENDB(t *testing.T) {
	t.Parallel()
	const repoPath = "distribution/leap/15.6/repo/oss"
	suse := func(ps ...rpmrepo.Package) []rpmrepo.Package {
		out := make([]rpmrepo.Package, len(ps))
		for i, p := range ps {
			p.Vendor = "SUSE LLC <https://www.suse.com/>"
			out[i] = p
		}
		return out
	}
	zlib := func(rel string) []rpmrepo.Package {
		return suse(rpmrepo.Package{Name: "libz1", Version: "1.2.13", Release: rel, SourceRPM: "zlib-1.2.13-" + rel + ".src.rpm",
			Files: []rpmrepo.File{{Path: "/usr/lib64/libz.so.1", Content: []byte("zlib " + rel), Mode: 0o755}}})
	}
	inst := slices.Concat(suse(bash), zlib("150500.4.3.1"))
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: slices.Concat(inst, zlib("150500.4.9.1"))}}})
	repo := "[repo-oss]\nname=Main Repository\nenabled=1\nautorefresh=1\nbaseurl=" + srv.URL() + "/distribution/leap/$releasever/repo/oss/\ntype=rpm-md\ngpgcheck=1\ngpgkey=file:///" + rpmrepo.KeyPath + "\nkeeppackages=0\n"
	img := rpmimage.Image(t, rpmimage.Spec{
		OSRelease: rpmimage.LeapRelease, Packages: inst, NDB: true, DBDir: "usr/lib/sysimage/rpm",
		Links: map[string]string{"var/lib/rpm": "../../usr/lib/sysimage/rpm"},
		Repos: map[string][]byte{"repo-oss.repo": []byte(repo)}, ReposDir: "etc/zypp/repos.d",
	})
	db := database(t, "openSUSE Leap 15.6", "suse", advisory{"libz1", "CVE-2026-4000", "1.2.13-150500.4.9.1"})
	fs := patchtest.Findings(t, img, db)
	if len(fs) != 1 {
		t.Fatalf("findings before patching: %+v", fs)
	}
	patched, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), img, fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Updates) != 1 || out.Updates[0].To != "1.2.13-150500.4.9.1" {
		t.Fatalf("updates %+v", out.Updates)
	}
	if left := patchtest.Findings(t, patched, db); len(left) > 0 {
		t.Errorf("fixable findings after patching: %+v", left)
	}
	hdrs := patchtest.LayerHeaders(t, out.Layer)
	for _, f := range []string{"usr/lib/sysimage/rpm/Packages.db", "usr/lib/sysimage/rpm/Index.db"} {
		if _, ok := hdrs[f]; !ok {
			t.Errorf("%s not in the layer: %v", f, keys(hdrs))
		}
	}
	if _, ok := hdrs["var/lib/rpm"]; ok {
		t.Errorf("the layer replaces the var/lib/rpm symlink")
	}
	files := patchtest.ReadFiles(t, patched, "usr/lib/sysimage/rpm/Packages.db", "usr/lib64/libz.so.1")
	if files["usr/lib64/libz.so.1"] != "zlib 150500.4.9.1" {
		t.Errorf("libz is %q", files["usr/lib64/libz.so.1"])
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/Packages.db", []byte(files["usr/lib/sysimage/rpm/Packages.db"]), 0o644); err != nil {
		t.Fatal(err)
	}
	rdb, err := gorpmdb.Open(dir + "/Packages.db")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	pkgs, err := rdb.ListPackages()
	if err != nil {
		t.Fatal(err)
	}
	var nvrs []string
	for _, p := range pkgs {
		nvrs = append(nvrs, p.Name+"-"+p.Version+"-"+p.Release)
	}
	slices.Sort(nvrs)
	if want := []string{"bash-5.1.8-6.el9", "libz1-1.2.13-150500.4.9.1"}; !slices.Equal(nvrs, want) {
		t.Errorf("go-rpmdb reads %v, want %v", nvrs, want)
	}
}

// TestPatchModularPackage patches a modular package (nodejs:18, enabled in
// etc/dnf/modules.d) from an AppStream whose modules.yaml also offers
// stream 20 (the default) and whose newer non-modular nodejs is hidden by
// module filtering: the fix comes from stream 18.
func TestPatchModularPackage(t *testing.T) {
	t.Parallel()
	const appstream = "rocky/9/AppStream/x86_64/os"
	node := func(ver, rel, label string) rpmrepo.Package {
		return rocky(rpmrepo.Package{Name: "nodejs", Epoch: "1", Version: ver, Release: rel, ModularityLabel: label,
			Files: []rpmrepo.File{{Path: "/usr/bin/node", Content: []byte("node " + ver), Mode: 0o755}}})[0]
	}
	inst := node("18.1", "1.module+el9.3.0+1", "nodejs:18:9030:abc")
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: appstream,
		Packages: []rpmrepo.Package{inst, node("18.2", "1.module+el9.3.0+2", "nodejs:18:9030:abc"), node("20.1", "1.module+el9.3.0+3", "nodejs:20:9030:abc"), node("22.0", "1.el9", "")},
		Modules: []rpmrepo.ModuleStream{
			{Name: "nodejs", Stream: "18", Packages: []string{"nodejs-1:18.1-1.module+el9.3.0+1.x86_64", "nodejs-1:18.2-1.module+el9.3.0+2.x86_64"}},
			{Name: "nodejs", Stream: "20", Default: true, Packages: []string{"nodejs-1:20.1-1.module+el9.3.0+3.x86_64"}},
		}}}})
	img := rpmimage.Image(t, rpmimage.Spec{Packages: []rpmrepo.Package{inst},
		Repos: map[string][]byte{"rocky.repo": rpmrepo.RepoFile("appstream", srv.RepoURL(appstream))},
		Files: map[string]string{"etc/dnf/modules.d/nodejs.module": "[nodejs]\nname=nodejs\nstream=18\nprofiles=\nstate=enabled\n"}})
	fs := []patch.Finding{{VulnerabilityID: "CVE-2026-5000", PkgName: "nodejs", InstalledVersion: "1:18.1-1.module+el9.3.0+1", FixedVersion: "1:18.2-1.module+el9.3.0+2"}}
	_, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), img, fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Updates) != 1 || out.Updates[0].To != "1:18.2-1.module+el9.3.0+2" {
		t.Fatalf("updates %+v, want nodejs from stream 18", out.Updates)
	}
}
