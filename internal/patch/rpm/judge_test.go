package rpm_test

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/patchloop/patchloop/internal/patch/patchtest"
	rpmpatch "github.com/patchloop/patchloop/internal/patch/rpm"
	"github.com/patchloop/patchloop/internal/testutil/rpmimage"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// extract writes an image's final filesystem under dir: directories,
// regular files, symlinks and hard links, never through a symlink.
func extract(t testing.TB, img v1.Image, dir string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean(strings.TrimPrefix(h.Name, "/"))
		if name == "." || strings.HasPrefix(name, "..") {
			continue
		}
		p := filepath.Join(dir, name)
		if throughLink(dir, name) {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			_ = os.Chmod(p, os.FileMode(h.Mode&0o7777)|0o700)
		case tar.TypeReg:
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			_ = f.Close()
			_ = os.Chmod(p, os.FileMode(h.Mode&0o777))
			_ = os.Chtimes(p, h.ModTime, h.ModTime)
		case tar.TypeSymlink:
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			_ = os.Remove(p)
			if err := os.Symlink(h.Linkname, p); err != nil {
				t.Fatal(err)
			}
		case tar.TypeLink:
			target := filepath.Join(dir, filepath.Clean(strings.TrimPrefix(h.Linkname, "/")))
			_ = os.Remove(p)
			if err := os.Link(target, p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// throughLink reports whether a parent of name under dir is a symlink.
func throughLink(dir, name string) bool {
	parts := strings.Split(filepath.Dir(name), string(filepath.Separator))
	cur := dir
	for _, part := range parts {
		if part == "." {
			break
		}
		cur = filepath.Join(cur, part)
		if fi, err := os.Lstat(cur); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return true
		}
	}
	return false
}

// tool runs a host tool with HOME holding an .rpmmacros that points rpm
// at the image's sqlite database (Debian's rpm keeps its own elsewhere).
func tool(t testing.TB, home string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "LC_ALL=C")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// mustTool is tool failing the test on an error or on stderr output.
func mustTool(t testing.TB, home string, name string, args ...string) string {
	t.Helper()
	o, e, err := tool(t, home, name, args...)
	if err != nil || e != "" {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, o, e)
	}
	return o
}

// TestPatchJudgedByRPMAndDNF patches the Rocky image and judges the
// result with the host's rpm and dnf, against the same image upgraded by
// dnf --installroot.
func TestPatchJudgedByRPMAndDNF(t *testing.T) {
	for _, tool := range []string{"rpm", "rpmdb", "dnf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	t.Parallel()
	srv, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{})
	img := rpmimage.Image(t, spec)
	db := database(t, "rocky 9", "rocky", rockyAdvisories...)
	patched, _, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), img, patchtest.Findings(t, img, db))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	home := filepath.Join(work, "home")
	patchedRoot, dnfRoot := filepath.Join(work, "patched"), filepath.Join(work, "dnf")
	for _, d := range []string{home, patchedRoot, dnfRoot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n%_db_backend sqlite\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	extract(t, patched, patchedRoot)
	extract(t, img, dnfRoot)

	rpmQ := func(root string, args ...string) string {
		return mustTool(t, home, "rpm", append([]string{"--root", root, "--dbpath", "/var/lib/rpm"}, args...)...)
	}
	qa := func(root string) []string {
		lines := strings.Fields(rpmQ(root, "-qa", "--qf", "%{NEVRA}\n"))
		slices.Sort(lines)
		return lines
	}

	// dnf upgrades the same packages in a copy of the original image.
	reposd := filepath.Join(work, "repos.d")
	keyFile := filepath.Join(work, "key.asc")
	if err := os.MkdirAll(reposd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, rpmrepo.RepoKey().PublicArmored(), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(rpmrepo.RepoFile("baseos", srv.RepoURL(baseRepo))), "file:///"+rpmrepo.KeyPath, "file://"+keyFile, 1)
	if err := os.WriteFile(filepath.Join(reposd, "baseos.repo"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	dnf := func(root string, args ...string) (string, string, error) {
		base := []string{"-y", "--installroot", root, "--releasever", "9", "--setopt=reposdir=" + reposd,
			"--setopt=cachedir=" + filepath.Join(work, "dnfcache"), "--setopt=logdir=" + work, "--noplugins",
			"--setopt=install_weak_deps=False", "--setopt=tsflags=noscripts"}
		return tool(t, home, "dnf", append(base, args...)...)
	}
	if o, e, err := dnf(dnfRoot, "upgrade", "openssl", "openssl-libs", "hello"); err != nil {
		t.Fatalf("dnf upgrade: %v\n%s\n%s", err, o, e)
	}
	wantQA, gotQA := qa(dnfRoot), qa(patchedRoot)
	wantQA = slices.DeleteFunc(wantQA, func(s string) bool { return strings.HasPrefix(s, "gpg-pubkey-") })
	if !slices.Equal(gotQA, wantQA) {
		t.Errorf("rpm -qa after the patch:\n%s\nafter dnf upgrade:\n%s", strings.Join(gotQA, "\n"), strings.Join(wantQA, "\n"))
	}

	// The database is consistent and every file as the packages say.
	mustTool(t, home, "rpmdb", "--root", patchedRoot, "--dbpath", "/var/lib/rpm", "--verifydb")
	va, e, _ := tool(t, home, "rpm", "--root", patchedRoot, "--dbpath", "/var/lib/rpm", "-Va", "--nouser", "--nogroup", "--nocaps", "--nomtime")
	if e != "" {
		t.Errorf("rpm -Va stderr: %s", e)
	}
	var changed []string
	for _, l := range strings.Split(strings.TrimSpace(va), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			changed = append(changed, f[len(f)-1])
		}
	}
	slices.Sort(changed)
	// Only the configuration files the user changed (and kept) differ.
	if want := []string{"/etc/hello-same.conf", "/etc/hello.conf"}; !slices.Equal(changed, want) {
		t.Errorf("rpm -Va reports %v, want %v:\n%s", changed, want, va)
	}
	for q, want := range map[string]string{
		"-qf /usr/bin/hello":                     "hello-1.0-2.el9.x86_64",
		"-q --whatprovides libnew":               "libnew-1.0-1.el9.x86_64",
		"-q --whatrequires libnew":               "openssl-3.0.7-27.el9.x86_64",
		"-qf /usr/lib64/libssl.so.3":             "openssl-libs-3.0.7-27.el9.x86_64",
		"-q --whatprovides libssl.so.3()(64bit)": "openssl-libs-3.0.7-27.el9.x86_64",
	} {
		if got := strings.TrimSpace(rpmQ(patchedRoot, strings.Fields(q)...)); got != want {
			t.Errorf("rpm %s = %q, want %q", q, got, want)
		}
	}
	if o, e, err := dnf(patchedRoot, "check"); err != nil || strings.TrimSpace(o+e) != "" {
		t.Errorf("dnf check: %v\n%s%s", err, o, e)
	}
	o, e, err := dnf(patchedRoot, "upgrade")
	if err != nil || !strings.Contains(o+e, "Nothing to do") {
		t.Errorf("dnf upgrade on the patched root: %v\n%s%s", err, o, e)
	}
}

// judgeWithRPM extracts a patched image and checks it with the host's
// rpm when installed: rpmdb --verifydb and rpm -Va print nothing (-Va
// ignoring owners, capabilities and mtimes, which extraction as a test
// user does not keep), and rpm -qa lists want.
func judgeWithRPM(t *testing.T, patched v1.Image, want []string) {
	t.Helper()
	for _, tool := range []string{"rpm", "rpmdb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("%s not installed: not judged by rpm", tool)
			return
		}
	}
	work := t.TempDir()
	home, root := filepath.Join(work, "home"), filepath.Join(work, "root")
	for _, d := range []string{home, root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n%_db_backend sqlite\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	extract(t, patched, root)
	mustTool(t, home, "rpmdb", "--root", root, "--dbpath", "/var/lib/rpm", "--verifydb")
	if va := mustToolAllowExit(t, home, "rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-Va", "--nouser", "--nogroup", "--nocaps", "--nomtime"); va != "" {
		t.Errorf("rpm -Va:\n%s", va)
	}
	got := strings.Fields(mustTool(t, home, "rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NEVRA}\n"))
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rpm -qa = %v, want %v", got, want)
	}
}

// mustToolAllowExit is mustTool accepting a non-zero exit (rpm -Va exits
// 1 when it reports something) but no stderr.
func mustToolAllowExit(t testing.TB, home string, name string, args ...string) string {
	t.Helper()
	o, e, _ := tool(t, home, name, args...)
	if e != "" {
		t.Fatalf("%s %s: stderr: %s", name, strings.Join(args, " "), e)
	}
	return strings.TrimSpace(o)
}
