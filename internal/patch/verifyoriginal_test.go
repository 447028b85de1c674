package patch_test

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/tags"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// TestVerifyOriginalTagMoved: the tag is moved to another image right
// after VerifyOriginal accepted the manifest it named (the race a
// verify-before-patch policy must not lose): what is patched is the
// manifest verified, not what the tag names afterwards.
func TestVerifyOriginalTagMoved(t *testing.T) {
	f := newFixture(t)
	ref := f.host + "/app:1.0"
	verified := registrytest.Push(t, ref, f.image(t, "amd64", "1.0-1"))
	opts := f.options(t, tags.Incremental)
	var checked v1.Hash
	opts.VerifyOriginal = func(_ context.Context, _ name.Reference, desc v1.Descriptor) error {
		checked = desc.Digest
		other, err := random.Image(64, 1)
		if err != nil {
			return err
		}
		registrytest.Push(t, ref, other)
		return nil
	}
	res, err := patch.Run(context.Background(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if checked != verified {
		t.Fatalf("verified %s, pushed %s", checked, verified)
	}
	if len(res.Platforms) != 1 || res.Platforms[0].Original != verified.String() || res.Digest == "" {
		t.Fatalf("patched %+v, want the verified %s", res.Platforms, verified)
	}
	img, err := pull(t, res.Reference).Image()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Config.Labels[patch.AnnotationBaseDigest]; got != verified.String() {
		t.Errorf("base digest label %s, want %s", got, verified)
	}
}
