package platform_test

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/platform"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// TestWalk walks an index holding every kind of entry the scanner and the
// patcher meet and checks how each is classified.
func TestWalk(t *testing.T) {
	t.Parallel()
	amd64 := imagetest.PlatformImage(t, "linux", "amd64")
	arm := imagetest.PlatformImage(t, "linux", "arm")
	win := imagetest.PlatformImage(t, "windows", "amd64")
	att := imagetest.PlatformImage(t, "unknown", "unknown")
	noPlatform := imagetest.PlatformImage(t, "linux", "s390x")
	artifact := mutate.MediaType(imagetest.PlatformImage(t, "linux", "riscv64"), types.MediaType("application/vnd.example.sbom+json"))
	nested := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{
		Platform: &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
	}})
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: win, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		}},
		mutate.IndexAddendum{Add: att}, // unknown/unknown without the annotation or a descriptor platform
		mutate.IndexAddendum{Add: noPlatform},
		mutate.IndexAddendum{Add: artifact, Descriptor: v1.Descriptor{MediaType: "application/vnd.example.sbom+json"}},
		mutate.IndexAddendum{Add: nested},
	)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	ms, err := platform.Walk(idx, im.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		s := m.String() + " skip=" + m.Skip
		if m.Nested {
			s += " nested"
		}
		got = append(got, s)
	}
	want := []string{
		"linux/amd64 skip=",
		"windows/amd64 skip=",
		"unknown/unknown skip=attestation manifest",
		"unknown/unknown skip=attestation manifest",
		"linux/s390x skip=",
		" skip=not an image manifest",
		"linux/arm/v7 skip= nested",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walk:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if img, err := ms[6].Image(); err != nil {
		t.Errorf("nested image: %v", err)
	} else if d, _ := img.Digest(); d != mustDigest(t, arm) {
		t.Errorf("nested image digest %s, want arm's", d)
	}

	// Indexes nested deeper than MaxDepth are refused.
	deep := v1.ImageIndex(mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: amd64}))
	for range platform.MaxDepth + 1 {
		deep = mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: deep})
	}
	dm, err := deep.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := platform.Walk(deep, dm.Manifests); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("deep index: %v", err)
	}
}

func mustDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		want v1.Platform
		ok   bool
	}{
		{"linux/arm64/v8", v1.Platform{OS: "linux", Architecture: "arm64"}, true},
		{"linux/arm64/v8", v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, true},
		{"linux/arm64", v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, false},
		{"linux/amd64", v1.Platform{OS: "windows", Architecture: "amd64"}, false},
		{"", v1.Platform{OS: "linux", Architecture: "amd64"}, false},
	} {
		if got := platform.Matches(tc.s, &tc.want); got != tc.ok {
			t.Errorf("Matches(%q, %s) = %v", tc.s, platform.String(&tc.want), got)
		}
	}
}
