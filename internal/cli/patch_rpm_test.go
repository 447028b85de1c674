package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/testutil/rpmimage"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// TestPatchCommandRocky patches a Rocky 9-like image pushed to a
// registry, its repository (Rocky's own URL in the image) served on
// loopback through --rpm-mirror, writes the OpenVEX document with rpm
// package URLs, and finds nothing left to patch in the result.
func TestPatchCommandRocky(t *testing.T) {
	t.Parallel()
	const vendor = "Rocky Enterprise Software Foundation"
	hello := func(rel string) rpmrepo.Package {
		return rpmrepo.Package{Name: "hello", Version: "1.0", Release: rel, Vendor: vendor,
			Files: []rpmrepo.File{{Path: "/usr/bin/hello", Content: []byte("hello " + rel), Mode: 0o755}}}
	}
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: "pub/rocky/9/BaseOS/x86_64/os", Packages: []rpmrepo.Package{hello("1.el9"), hello("2.el9")}}}})
	repo := "[baseos]\nname=Rocky Linux $releasever - BaseOS\nmirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=BaseOS-$releasever\n" +
		"#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/BaseOS/$basearch/os/\nbaseurl=https://dl.rockylinux.org/pub/rocky/9/BaseOS/$basearch/os/\n" +
		"gpgcheck=1\nenabled=1\ncountme=1\nmetadata_expire=6h\ngpgkey=file:///" + rpmrepo.KeyPath + "\n"
	img := rpmimage.Image(t, rpmimage.Spec{Packages: []rpmrepo.Package{hello("1.el9")}, Repos: map[string][]byte{"rocky.repo": []byte(repo)}})
	host := registrytest.Start(t)
	ref := host + "/rocky/app:1.0"
	registrytest.Push(t, ref, img)
	db := patchtest.WriteDatabase(t, "rocky 9", patchtest.Advisory{Source: "hello", ID: "CVE-2026-2000", Fixed: "1.0-2.el9"})
	dataDir := t.TempDir()
	vex := filepath.Join(t.TempDir(), "out.vex.json")
	code, out, errOut := run(t, "", "patch", ref, "--db", db, "--data-dir", dataDir, "--rpm-mirror", srv.URL(), "--vex", vex, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res patch.Result
	decodeJSON(t, out, &res)
	if res.Tag != "1.0-1" || len(res.Updates) != 1 || res.Updates[0].To != "1.0-2.el9" || !slices.Equal(res.Fixed, []string{"CVE-2026-2000"}) {
		t.Fatalf("result = %s", out)
	}
	doc, err := os.ReadFile(vex)
	if err != nil || !strings.Contains(string(doc), `"pkg:rpm/rocky/hello@1.0-2.el9?arch=x86_64"`) {
		t.Errorf("VEX document %s (%v) lacks the rpm package URL", doc, err)
	}
	code, out, errOut = run(t, "", "patch", res.Reference, "--db", db, "--data-dir", dataDir, "--rpm-mirror", srv.URL(), "--dry-run")
	if code != ExitOK || !strings.Contains(out, "Nothing to patch") {
		t.Errorf("second patch: exit %d: %s%s", code, out, errOut)
	}
	// A repository with gpgcheck=0 is refused without --allow-unsigned.
	unsigned := rpmimage.Image(t, rpmimage.Spec{Packages: []rpmrepo.Package{hello("1.el9")},
		Repos: map[string][]byte{"rocky.repo": []byte(strings.Replace(repo, "gpgcheck=1", "gpgcheck=0", 1))}})
	registrytest.Push(t, host+"/rocky/unsigned:1.0", unsigned)
	code, _, errOut = run(t, "", "patch", host+"/rocky/unsigned:1.0", "--db", db, "--data-dir", dataDir, "--rpm-mirror", srv.URL())
	if code == ExitOK || !strings.Contains(errOut, "--allow-unsigned") {
		t.Errorf("gpgcheck=0: exit %d: %s", code, errOut)
	}
	code, _, errOut = run(t, "", "patch", host+"/rocky/unsigned:1.0", "--db", db, "--data-dir", dataDir, "--rpm-mirror", srv.URL(), "--allow-unsigned")
	if code != ExitOK {
		t.Errorf("gpgcheck=0 with --allow-unsigned: exit %d: %s", code, errOut)
	}
}
