package rpm_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
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
	fs := findings(t, img, db)
	if len(fs) != 2 {
		t.Fatalf("findings before patching: %+v", fs)
	}
	patched, out, err := patchImage(t, newPatcher(t, rpmpatch.Options{}), img, fs)
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
	if left := findings(t, patched, db); len(left) > 0 {
		t.Errorf("fixable findings after patching: %+v", left)
	}
	if got := read(t, patched, "usr/lib/libcurl.so.4")["usr/lib/libcurl.so.4"]; got != "libcurl 3.azl3" {
		t.Errorf("libcurl is %q", got)
	}
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
