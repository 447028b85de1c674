package rpm_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch/patchtest"
	rpmpatch "github.com/patchloop/patchloop/internal/patch/rpm"
	"github.com/patchloop/patchloop/internal/testutil/rpmimage"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// withHello returns the repository's packages with hello 1.0-2 holding
// extra files.
func withHello(extra ...rpmrepo.File) []rpmrepo.Package {
	hello := helloNew
	hello.Files = append(slices.Clone(hello.Files), extra...)
	pkgs := slices.DeleteFunc(repoPackages(), func(p rpmrepo.Package) bool { return p.Name == "hello" && p.Release == "2.el9" })
	return append(pkgs, rocky(hello)...)
}

// TestPatchRefusesFileThroughPackageSymlink: a signed package whose
// symlink points outside its directory, with a file written "through"
// it, never yields a layer writing where the link points.
func TestPatchRefusesFileThroughPackageSymlink(t *testing.T) {
	t.Parallel()
	for name, files := range map[string][]rpmrepo.File{
		"absolute": {{Path: "/usr/lib/evil", LinkTo: "/etc"}, {Path: "/usr/lib/evil/shadow", Content: []byte("root::0:0")}},
		"relative": {{Path: "/usr/lib/evil", LinkTo: "../../etc"}, {Path: "/usr/lib/evil/shadow", Content: []byte("root::0:0")}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, spec := rockySetup(t, rpmrepo.Repository{Packages: withHello(files...)}, rpmimage.Spec{})
			patched, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
			if err == nil {
				if got := patchtest.ReadFiles(t, patched, "etc/shadow")["etc/shadow"]; strings.Contains(got, "root::") {
					t.Fatalf("the layer wrote /etc/shadow through the package's symlink (outcome %v)", out)
				}
				return
			}
			if !strings.Contains(err.Error(), "usr/lib/evil") {
				t.Errorf("err %v does not name the path", err)
			}
		})
	}
}

// TestPatchReadsKeysInsideTheImage: the trusted key exists on the host,
// and the image points at it (a gpgkey URL climbing out of the root, a
// symlink in /etc/pki/rpm-gpg to the host path): both resolve inside the
// image, where there is no key, so nothing verifies.
func TestPatchReadsKeysInsideTheImage(t *testing.T) {
	t.Parallel()
	hostDir := t.TempDir()
	hostKey := hostDir + "/RPM-GPG-KEY-host"
	if err := os.WriteFile(hostKey, []byte(rpmrepo.RepoKey().PublicArmored()), 0o644); err != nil {
		t.Fatal(err)
	}
	climb := strings.Repeat("../", 20)
	for name, spec := range map[string]rpmimage.Spec{
		"gpgkey climbing out": {NoKey: true},
		"symlink to the host": {NoKey: true, Links: map[string]string{rpmrepo.KeyPath: "/" + climb + strings.TrimPrefix(hostKey, "/")}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, spec := rockySetup(t, rpmrepo.Repository{}, spec)
			key := "file:///" + rpmrepo.KeyPath
			if name == "gpgkey climbing out" {
				key = "file:///" + climb + strings.TrimPrefix(hostKey, "/")
			}
			spec.Repos = map[string][]byte{"rocky.repo": []byte(fmt.Sprintf("[baseos]\nname=BaseOS\nbaseurl=%s\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=%s\n", srv.RepoURL(baseRepo), key))}
			_, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
			if err == nil || out != nil {
				t.Fatalf("patched with a key read from the host (outcome %v)", out)
			}
			if !strings.Contains(err.Error(), "baseos") || !strings.Contains(err.Error(), "trusts no key") {
				t.Errorf("err %v does not name the repository", err)
			}
		})
	}
}
