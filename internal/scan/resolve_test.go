package scan_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// alpineImage is an Alpine 3.19 image for the given architecture.
func alpineImage(t testing.TB, arch string) v1.Image {
	return imagetest.PlatformImage(t, "linux", arch, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":       "ID=alpine\nVERSION_ID=3.19.1\n",
		"etc/alpine-release":   "3.19.1\n",
		"lib/apk/db/installed": "P:libssl3\nV:3.1.4-r2\nA:" + arch + "\no:openssl\n",
	}))
}

// multiPlatformIndex is a debian linux/amd64 image, an alpine
// linux/arm64/v8 image and a BuildKit attestation manifest.
func multiPlatformIndex(t testing.TB) v1.ImageIndex {
	attestation := imagetest.PlatformImage(t, "unknown", "unknown", imagetest.FilesLayer(t, map[string]string{"sbom.json": "{}"}))
	return mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: debianImage(t), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: alpineImage(t, "aarch64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: attestation, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		}},
	)
}

func pushIndex(t testing.TB, ref string, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return d
}

func TestResolveMultiPlatformIndex(t *testing.T) {
	host := registrytest.Start(t)
	ref := host + "/multi/app:1.0"
	digest := pushIndex(t, ref, multiPlatformIndex(t))
	ctx := context.Background()
	client := registry.New()

	targets, err := scan.Resolve(ctx, client, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, tg := range targets {
		platforms = append(platforms, tg.Platform)
		if tg.ArtifactName != ref || tg.RepoTags[0] != host+"/multi/app:1.0" || tg.RepoDigests[0] != host+"/multi/app@"+digest.String() {
			t.Fatalf("target names %+v", tg)
		}
	}
	if strings.Join(platforms, ",") != "linux/amd64,linux/arm64/v8" {
		t.Fatalf("platforms %v", platforms)
	}

	db := openDB(t, database())
	var reports []*scan.Report
	for _, tg := range targets {
		rep, err := scan.Scan(ctx, tg.Image, db, tg.Options(scan.Options{Now: clock}))
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, rep)
	}
	if reports[0].Metadata.OS.Family != "debian" || len(reports[0].Vulnerabilities()) != 5 {
		t.Fatalf("amd64 report: %+v", reports[0].Metadata.OS)
	}
	wantLines(t, reports[1], "libssl3 3.1.4-r2 3.1.4-r5 CVE-2024-0727 HIGH/nvd fixed")

	// --platform picks one; the variant is optional.
	for _, p := range []string{"linux/arm64", "linux/arm64/v8"} {
		want, _ := v1.ParsePlatform(p)
		targets, err := scan.Resolve(ctx, client, ref, want)
		if err != nil || len(targets) != 1 || targets[0].Platform != "linux/arm64/v8" {
			t.Fatalf("--platform %s: %v %+v", p, err, targets)
		}
	}
	want, _ := v1.ParsePlatform("linux/s390x")
	if _, err := scan.Resolve(ctx, client, ref, want); err == nil || !strings.Contains(err.Error(), "available: linux/amd64, linux/arm64/v8") {
		t.Fatalf("missing platform: %v", err)
	}
}

func TestResolveSingleImageAndPlatformCheck(t *testing.T) {
	host := registrytest.Start(t)
	ref := host + "/single/app:1"
	registrytest.Push(t, ref, debianImage(t))
	client := registry.New()
	targets, err := scan.Resolve(context.Background(), client, ref, nil)
	if err != nil || len(targets) != 1 || targets[0].Platform != "linux/amd64" {
		t.Fatalf("%v %+v", err, targets)
	}
	want, _ := v1.ParsePlatform("linux/arm64")
	if _, err := scan.Resolve(context.Background(), client, ref, want); err == nil || !strings.Contains(err.Error(), "linux/amd64, not linux/arm64") {
		t.Fatalf("mismatched platform: %v", err)
	}
	if _, err := scan.Resolve(context.Background(), client, host+"/single/missing:1", nil); err == nil || !registry.IsNotFound(err) {
		t.Fatalf("missing image: %v", err)
	}
}

func TestResolveOCILayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(debianImage(t), layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "deb"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(multiPlatformIndex(t), layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "multi"})); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for arg, want := range map[string]string{
		"oci:" + dir + ":deb":   "linux/amd64",
		"oci:" + dir + ":multi": "linux/amd64,linux/arm64/v8",
		dir:                     "linux/amd64,linux/amd64,linux/arm64/v8",
	} {
		targets, err := scan.Resolve(ctx, registry.New(), arg, nil)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		var got []string
		for _, tg := range targets {
			got = append(got, tg.Platform)
			if tg.ArtifactName != arg || tg.RepoTags != nil {
				t.Fatalf("%s: names %+v", arg, tg)
			}
		}
		if strings.Join(got, ",") != want {
			t.Fatalf("%s: platforms %v, want %s", arg, got, want)
		}
	}
	if _, err := scan.Resolve(ctx, registry.New(), "oci:"+dir+":nope", nil); err == nil || !strings.Contains(err.Error(), `no manifest tagged "nope"`) {
		t.Fatalf("unknown tag: %v", err)
	}
	db := openDB(t, database())
	targets, _ := scan.Resolve(ctx, registry.New(), "oci:"+dir+":deb", nil)
	rep, err := scan.Scan(ctx, targets[0].Image, db, targets[0].Options(scan.Options{Now: clock}))
	if err != nil || len(rep.Vulnerabilities()) != 5 || rep.Results[0].Target != "oci:"+dir+":deb (debian 12.5)" {
		t.Fatalf("%v %+v", err, rep)
	}
	if _, err := scan.Resolve(ctx, registry.New(), "oci:"+filepath.Join(dir, "missing"), nil); err == nil {
		t.Fatal("missing layout resolved")
	}
}
