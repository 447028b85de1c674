package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// pushOrasStyle pushes a config artifact the way the az acrcssc extension
// does (oras push of one JSON file): an OCI image manifest whose config is
// ORAS's unknown config and whose one layer is the file, as a tar-typed
// layer with a title.
func pushOrasStyle(t *testing.T, host, tag string, doc []byte) string {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.unknown.config.v1+json")
	img, err := mutate.Append(img, mutate.Addendum{
		Layer:       static.NewLayer(doc, "application/vnd.oci.image.layer.v1.tar"),
		Annotations: map[string]string{"org.opencontainers.image.title": "continuouspatching.json"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/" + PolicyRepository + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// TestConfigArtifactIsTheSource: every trigger reads the config artifact.
// One pushed with a registry client between cycles (in the az extension's
// layout) changes the next cycle, and the service's copy follows it; a
// deleted or invalid one fails the trigger with the reason and keeps the
// last good config for show.
func TestConfigArtifactIsTheSource(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-2"), "one", "1.0")
	f.push(t, f.debian(t, "1.0-2"), "two", "1.0")
	e := f.start(t)
	ctx := context.Background()
	f.create(t, e, configOf("incremental", "one"), false)

	scanned := func(cycle int64) []string {
		var out []string
		for _, r := range runsOf(t, e, f.host, TaskScan) {
			if r.Cycle == cycle {
				out = append(out, r.Image)
			}
		}
		return out
	}
	f.runCycle(t, e, day)
	if diff := cmp.Diff([]string{"one:1.0"}, scanned(1)); diff != "" {
		t.Fatalf("cycle 1 (-want +got):\n%s", diff)
	}

	// A user pushes a new config with a registry client, as az would.
	edited := []byte(`{"version": "v1", "tag-convention": "floating", "repositories": [{"repository": "two", "tags": ["1.0"]}]}`)
	digest := pushOrasStyle(t, f.host, ConfigTag, edited)
	f.runCycle(t, e, day)
	if diff := cmp.Diff([]string{"two:1.0"}, scanned(2)); diff != "" {
		t.Fatalf("cycle 2 after the artifact changed (-want +got):\n%s", diff)
	}
	w, err := e.Get(ctx, f.host, TypeContinuousPatchV1)
	if err != nil {
		t.Fatal(err)
	}
	if w.ConfigDigest != digest || w.TagConvention != "floating" || !strings.Contains(string(w.Config), `"two"`) {
		t.Fatalf("the service's copy did not follow the artifact: digest %s (want %s), config %s", w.ConfigDigest, digest, w.Config)
	}

	// An invalid artifact fails the trigger; show keeps the last good one.
	pushOrasStyle(t, f.host, ConfigTag, []byte(`{"version": "v2", "repositories": []}`))
	f.runCycle(t, e, day)
	tr, err := e.Runs(ctx, RunFilter{Registry: f.host, Task: TaskTrigger, Top: 1})
	if err != nil || len(tr) != 1 || tr[0].Cycle != 3 || tr[0].Status != StatusFailed ||
		!strings.Contains(tr[0].Error, f.host+"/"+PolicyRepository+":"+ConfigTag+"@sha256:") || !strings.Contains(tr[0].Error, "version") {
		t.Fatalf("trigger of an invalid artifact = %+v, %v", tr, err)
	}
	if scans := scanned(3); len(scans) != 0 {
		t.Errorf("cycle 3 scanned %q", scans)
	}
	if w3, err := e.Get(ctx, f.host, TypeContinuousPatchV1); err != nil || w3.ConfigDigest != digest {
		t.Fatalf("show after an invalid artifact: %+v, %v; want the last good digest %s", w3, err, digest)
	}

	// A deleted artifact fails the trigger saying so.
	if err := e.deletePolicyRepository(ctx, f.host); err != nil {
		t.Fatal(err)
	}
	f.runCycle(t, e, day)
	tr, err = e.Runs(ctx, RunFilter{Registry: f.host, Task: TaskTrigger, Top: 1})
	if err != nil || len(tr) != 1 || tr[0].Status != StatusFailed || !strings.Contains(tr[0].Error, "not found") {
		t.Fatalf("trigger of a deleted artifact = %+v, %v", tr, err)
	}

	// An artifact with two layers is refused, naming what is accepted.
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: static.NewLayer(edited, "application/json")}, mutate.Addendum{Layer: static.NewLayer(edited, "application/json")})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(f.host + "/" + PolicyRepository + ":" + ConfigTag)
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fetchConfig(ctx, f.host, TypeContinuousPatchV1); !errors.Is(err, ErrConfigArtifact) || !strings.Contains(err.Error(), "2 layers: want exactly one") {
		t.Fatalf("two layers: %v", err)
	}
}
