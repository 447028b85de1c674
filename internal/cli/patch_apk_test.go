package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// TestPatchCommandAlpineMultiPlatform patches a two-platform Alpine 3.22
// image that lists no repositories (so the release's defaults are used),
// through --apk-mirror, each platform from its own architecture's index.
func TestPatchCommandAlpineMultiPlatform(t *testing.T) {
	t.Parallel()
	pkg := func(v, arch string) apkrepo.Package {
		return apkrepo.Package{Name: "busybox", Version: v, Arch: arch, Files: []apkrepo.File{{Path: "bin/busybox", Body: "busybox " + v + " " + arch, Mode: 0o755}}}
	}
	srv := apkrepo.New(t, apkrepo.Config{Repositories: []apkrepo.Repository{{
		Path: "alpine/v3.22/main", Arches: []string{"x86_64", "aarch64"},
		Packages: []apkrepo.Package{pkg("1.37.0-r18", "x86_64"), pkg("1.37.0-r19", "x86_64"), pkg("1.37.0-r18", "aarch64"), pkg("1.37.0-r19", "aarch64")},
	}}})
	image := func(arch string) v1.Image {
		return apkrepo.Image(t, apkrepo.ImageSpec{Arch: arch, Packages: []apkrepo.Package{pkg("1.37.0-r18", arch)}})
	}
	host := registrytest.Start(t)
	ref := host + "/alpine/app:1.0"
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: image("x86_64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: image("aarch64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	r, _ := name.ParseReference(ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	db := patchtest.WriteDatabase(t, "alpine 3.22", patchtest.Advisory{Source: "busybox", ID: "CVE-2026-2000", Fixed: "1.37.0-r19"})
	dataDir := t.TempDir()
	vex := filepath.Join(t.TempDir(), "out.vex.json")
	code, out, errOut := run(t, "", "patch", ref, "--db", db, "--data-dir", dataDir, "--apk-mirror", srv.URL+"/alpine", "--vex", vex, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res patch.Result
	decodeJSON(t, out, &res)
	if res.Tag != "1.0-1" || len(res.Updates) != 2 || res.Updates[0].To != "1.37.0-r19" || !slices.Equal(res.Fixed, []string{"CVE-2026-2000"}) {
		t.Fatalf("result = %s", out)
	}
	for _, pr := range res.Platforms {
		if pr.Digest == "" || pr.Family != "alpine" {
			t.Errorf("platform %s not patched: %+v", pr.Platform, pr)
		}
	}
	for _, arch := range []string{"x86_64", "aarch64"} {
		if n := srv.Fetches("alpine/v3.22/main/" + arch + "/busybox-1.37.0-r19.apk"); n != 1 {
			t.Errorf("%s package fetched %d times, want 1", arch, n)
		}
	}
	doc, err := os.ReadFile(vex)
	if err != nil || !strings.Contains(string(doc), `"pkg:apk/alpine/busybox@1.37.0-r19?arch=aarch64"`) {
		t.Errorf("VEX document %s (%v) lacks the apk package URL", doc, err)
	}
	// The patched image has nothing left to fix.
	code, out, errOut = run(t, "", "patch", res.Reference, "--db", db, "--data-dir", dataDir, "--apk-mirror", srv.URL+"/alpine", "--dry-run")
	if code != ExitOK {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "Nothing to patch") {
		t.Errorf("second patch: %s", out)
	}
}

// TestPatchCommandApkKeys: an image that trusts no apk key is refused
// with a message naming --apk-keyring, and patched with it; a bad
// --apk-mirror is a usage error.
func TestPatchCommandApkKeys(t *testing.T) {
	t.Parallel()
	pkg := func(v string) apkrepo.Package {
		return apkrepo.Package{Name: "zlib", Version: v, Files: []apkrepo.File{{Path: "lib/libz.so.1", Body: "zlib " + v}}}
	}
	srv := apkrepo.New(t, apkrepo.Config{Repositories: []apkrepo.Repository{{Path: "alpine/v3.22/main", Packages: []apkrepo.Package{pkg("1.3.1-r1")}}}})
	img := apkrepo.Image(t, apkrepo.ImageSpec{Packages: []apkrepo.Package{pkg("1.3.1-r0")}, Keys: []*apkrepo.Key{}, Repositories: []string{srv.RepoURL("alpine/v3.22/main")}})
	host := registrytest.Start(t)
	ref := host + "/alpine/zlib:1.0"
	registrytest.Push(t, ref, img)
	db := patchtest.WriteDatabase(t, "alpine 3.22", patchtest.Advisory{Source: "zlib", ID: "CVE-2026-2001", Fixed: "1.3.1-r1"})
	dataDir := t.TempDir()
	code, out, errOut := run(t, "", "patch", ref, "--db", db, "--data-dir", dataDir, "--dry-run")
	if code != ExitError || !strings.Contains(errOut, "--apk-keyring") {
		t.Fatalf("without keys: exit %d: %s%s", code, out, errOut)
	}
	keys := t.TempDir()
	k := apkrepo.IndexKey()
	if err := os.WriteFile(filepath.Join(keys, k.Name), k.PublicPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "", "patch", ref, "--db", db, "--data-dir", dataDir, "--apk-keyring", keys, "--dry-run")
	if code != ExitOK || !strings.Contains(out, "1.3.1-r1") {
		t.Fatalf("with --apk-keyring: exit %d: %s%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "", "patch", ref, "--apk-mirror", "ftp://mirror"); code != ExitUsage || !strings.Contains(errOut, "--apk-mirror") {
		t.Errorf("bad --apk-mirror: exit %d: %s", code, errOut)
	}
}
