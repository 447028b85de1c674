package rpm_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	rpmpatch "github.com/patchloop/patchloop/internal/patch/rpm"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmmd"
	"github.com/patchloop/patchloop/internal/testutil/rpmimage"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// helloFindings are the findings of the hello advisory alone.
var helloFindings = []patch.Finding{{VulnerabilityID: "CVE-2026-2000", PkgName: "hello", InstalledVersion: "1.0-1.el9", FixedVersion: "1.0-2.el9"}}

func TestPatchRefusesTamperedPackage(t *testing.T) {
	t.Parallel()
	srv, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{})
	p := rocky(helloNew)[0]
	pp := rpmrepo.PackagePath(baseRepo, p)
	data := srv.File(pp)
	data[len(data)-10] ^= 0xff // in the payload
	srv.SetFile(pp, data)
	_, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if !errors.Is(err, rpmmd.ErrChecksum) || out != nil {
		t.Fatalf("err %v, want a checksum mismatch and no outcome", err)
	}
	if !strings.Contains(err.Error(), "hello-1.0-2.el9.x86_64") {
		t.Errorf("error does not name the package: %v", err)
	}
}

func TestPatchRefusesRepomdChangedAfterSigning(t *testing.T) {
	t.Parallel()
	srv, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{})
	md := srv.File(rpmrepo.RepomdPath(baseRepo))
	srv.SetFile(rpmrepo.RepomdPath(baseRepo), bytes.Replace(md, []byte("<revision>"), []byte("<revision>1"), 1))
	_, _, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if !errors.Is(err, rpm.ErrBadSignature) {
		t.Fatalf("err %v, want a bad signature", err)
	}
}

func TestPatchRefusesUntrustedKeys(t *testing.T) {
	t.Parallel()
	// Metadata signed by a key the image does not hold.
	_, spec := rockySetup(t, rpmrepo.Repository{Key: rpmrepo.StrangerKey()}, rpmimage.Spec{})
	_, _, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if !errors.Is(err, rpm.ErrUntrustedKey) {
		t.Fatalf("stranger's repomd: err %v, want an untrusted key", err)
	}
	// Trusted metadata, but the package itself signed by the stranger.
	stranger := rocky(helloNew)[0]
	stranger.Key = rpmrepo.StrangerKey()
	_, spec = rockySetup(t, rpmrepo.Repository{Packages: append(rocky(helloOld), stranger)}, rpmimage.Spec{})
	_, _, err = patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if !errors.Is(err, rpm.ErrUntrustedKey) || !strings.Contains(err.Error(), "hello") {
		t.Fatalf("stranger's package: err %v, want an untrusted key naming hello", err)
	}
}

func TestPatchUnsignedRepository(t *testing.T) {
	t.Parallel()
	// hello 1.0-2 without its file capabilities, which an unsigned
	// package may not grant (TestPatchUnsignedRefusesPrivilegedFiles).
	hello := helloNew
	hello.Files = slices.DeleteFunc(slices.Clone(hello.Files), func(f rpmrepo.File) bool { return f.Caps != "" })
	pkgs := slices.DeleteFunc(repoPackages(), func(p rpmrepo.Package) bool { return p.Name == "hello" && p.Release == "2.el9" })
	srv, spec := rockySetup(t, rpmrepo.Repository{Packages: append(pkgs, rocky(hello)...)}, rpmimage.Spec{})
	spec.Repos = map[string][]byte{"rocky.repo": []byte(fmt.Sprintf("[baseos]\nname=BaseOS\nbaseurl=%s\ngpgcheck=0\n", srv.RepoURL(baseRepo)))}
	img := rpmimage.Image(t, spec)
	_, _, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), img, helloFindings)
	if !errors.Is(err, rpmpatch.ErrUnsigned) || !patch.IsPermanent(err) || !strings.Contains(err.Error(), "--allow-unsigned") {
		t.Fatalf("err %v, want ErrUnsigned (permanent) naming --allow-unsigned", err)
	}
	patched, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{AllowUnsigned: true}), img, helloFindings)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Updates) != 1 || out.Updates[0].To != "1.0-2.el9" {
		t.Fatalf("updates %+v", out.Updates)
	}
	if got := patchtest.ReadFiles(t, patched, "usr/bin/hello")["usr/bin/hello"]; got != "hello 2" {
		t.Errorf("hello is %q", got)
	}
}

func TestPatchImageTrustsNoKey(t *testing.T) {
	t.Parallel()
	_, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{NoKey: true})
	_, _, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if !patch.IsPermanent(err) || !strings.Contains(err.Error(), "--rpm-keyring") || !strings.Contains(err.Error(), "baseos") {
		t.Fatalf("err %v, want a permanent error naming the repository and --rpm-keyring", err)
	}
	// The key given with --rpm-keyring (Options.Keyring) verifies it.
	kr, err := rpm.ParseKeyring("test key", rpmrepo.RepoKey().PublicArmored())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{Keyring: kr}), rpmimage.Image(t, spec), helloFindings); err != nil {
		t.Fatal(err)
	}
}

// TestPatchRefusesTamperedPayload: a package whose payload was changed
// and whose repository metadata was then regenerated and signed again
// over it (so primary's checksum and repomd's signature hold) is refused
// by the package's own signed payload digest.
func TestPatchRefusesTamperedPayload(t *testing.T) {
	t.Parallel()
	srv, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{})
	repo := rpmrepo.Repository{Path: baseRepo, Packages: repoPackages()}
	var built []*rpmrepo.Built
	for _, p := range repo.Packages {
		b, err := rpmrepo.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name == "hello" && p.Release == "2.el9" {
			b.Data = bytes.Clone(b.Data)
			if b.Data[b.HeaderEnd] != 0x1f || b.Data[b.HeaderEnd+1] != 0x8b {
				t.Fatalf("payload does not start at the header's end with gzip's magic")
			}
			b.Data[b.HeaderEnd+4] ^= 0x01 // gzip's MTIME: the decompressor does not mind, the digest does
			srv.SetFile(rpmrepo.PackagePath(baseRepo, p), b.Data)
		}
		built = append(built, b)
	}
	files, err := rpmrepo.Metadata(repo, built)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		srv.SetFile(baseRepo+"/"+name, data)
	}
	_, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if err == nil || out != nil || !strings.Contains(err.Error(), "hello-1.0-2.el9.x86_64") {
		t.Fatalf("err %v (outcome %v), want a refusal naming the package", err, out)
	}
	if !errors.Is(err, rpm.ErrDigest) {
		t.Errorf("err %v, want rpm.ErrDigest", err)
	}
}

// TestPatchRefusesSubstitutedSignedPackage: the repository's metadata
// lists the fixed hello 1.0-2 but its location serves the older, still
// validly signed, vulnerable 1.0-1 (and primary's checksum and size were
// rewritten to match it, as a mirror with repo_gpgcheck=0 can do). The
// package's signature holds; the header's NEVRA does not match
// primary's, so nothing is installed.
func TestPatchRefusesSubstitutedSignedPackage(t *testing.T) {
	t.Parallel()
	srv, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{})
	old, err := rpmrepo.Build(rocky(helloOld)[0])
	if err != nil {
		t.Fatal(err)
	}
	repo := rpmrepo.Repository{Path: baseRepo, Packages: repoPackages()}
	var built []*rpmrepo.Built
	for _, p := range repo.Packages {
		b, err := rpmrepo.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name == "hello" && p.Release == "2.el9" {
			sub := *old
			sub.Package = b.Package
			b = &sub
			srv.SetFile(rpmrepo.PackagePath(baseRepo, p), b.Data)
		}
		built = append(built, b)
	}
	files, err := rpmrepo.Metadata(repo, built)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		srv.SetFile(baseRepo+"/"+name, data)
	}
	_, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if err == nil || out != nil {
		t.Fatalf("err %v (outcome %v), want a refusal", err, out)
	}
	if !errors.Is(err, rpm.ErrDigest) || !strings.Contains(err.Error(), "hello-1.0-1.el9.x86_64") || !strings.Contains(err.Error(), "hello-1.0-2.el9.x86_64") {
		t.Errorf("err %v, want rpm.ErrDigest naming both NEVRAs", err)
	}
}

// TestPatchUnsignedRefusesPrivilegedFiles: --allow-unsigned accepts
// packages nothing signed, but not the privileges they would grant: a
// setuid binary, file capabilities or a device node of such a package is
// refused, naming the file and the repository.
func TestPatchUnsignedRefusesPrivilegedFiles(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]rpmrepo.File{
		"setuid":       {Path: "/usr/bin/hello-su", Content: []byte("su"), Mode: 0o4755},
		"setgid":       {Path: "/usr/bin/hello-sg", Content: []byte("sg"), Mode: 0o2755},
		"capabilities": {Path: "/usr/bin/hello-ping", Content: []byte("ping"), Mode: 0o755, Caps: "cap_sys_admin=ep"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hello := helloNew
			hello.Files = append(slices.DeleteFunc(slices.Clone(hello.Files), func(f rpmrepo.File) bool { return f.Caps != "" }), f)
			pkgs := slices.DeleteFunc(repoPackages(), func(p rpmrepo.Package) bool { return p.Name == "hello" && p.Release == "2.el9" })
			srv, spec := rockySetup(t, rpmrepo.Repository{Packages: append(pkgs, rocky(hello)...)}, rpmimage.Spec{})
			spec.Repos = map[string][]byte{"rocky.repo": []byte(fmt.Sprintf("[baseos]\nname=BaseOS\nbaseurl=%s\ngpgcheck=0\n", srv.RepoURL(baseRepo)))}
			_, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{AllowUnsigned: true}), rpmimage.Image(t, spec), helloFindings)
			if !errors.Is(err, rpmpatch.ErrPrivilegedUnsigned) || out != nil {
				t.Fatalf("err %v (outcome %v), want ErrPrivilegedUnsigned", err, out)
			}
			if !strings.Contains(err.Error(), f.Path) || !strings.Contains(err.Error(), "baseos") || !patch.IsPermanent(err) {
				t.Errorf("err %v: want a permanent error naming %s and the repository", err, f.Path)
			}
		})
	}
}

// TestPatchVerifiesPayloadBeforeInflating: a package whose payload was
// replaced by other bytes (a decompression bomb would be such bytes),
// under regenerated and re-signed metadata, is refused by the signed
// payload digest before any decompressor reads it: the error is the
// digest's, never the decompressor's.
func TestPatchVerifiesPayloadBeforeInflating(t *testing.T) {
	t.Parallel()
	srv, spec := rockySetup(t, rpmrepo.Repository{}, rpmimage.Spec{})
	repo := rpmrepo.Repository{Path: baseRepo, Packages: repoPackages()}
	var built []*rpmrepo.Built
	for _, p := range repo.Packages {
		b, err := rpmrepo.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name == "hello" && p.Release == "2.el9" {
			b.Data = bytes.Clone(b.Data)
			b.Data[b.HeaderEnd] ^= 0xff // gzip's magic: no decompressor would start
			srv.SetFile(rpmrepo.PackagePath(baseRepo, p), b.Data)
		}
		built = append(built, b)
	}
	files, err := rpmrepo.Metadata(repo, built)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		srv.SetFile(baseRepo+"/"+name, data)
	}
	_, out, err := patchtest.PatchImage(t, newPatcher(t, rpmpatch.Options{}), rpmimage.Image(t, spec), helloFindings)
	if !errors.Is(err, rpm.ErrDigest) || out != nil || !strings.Contains(err.Error(), "hello-1.0-2.el9.x86_64") {
		t.Fatalf("err %v (outcome %v), want rpm.ErrDigest naming the package", err, out)
	}
	if strings.Contains(err.Error(), "gzip") {
		t.Errorf("err %v: the payload was decompressed before its digest was checked", err)
	}
}
