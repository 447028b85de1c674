package patch

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/tags"
)

// ChooseTag returns the tag a patch of ref is pushed under: override when
// given; otherwise the next tag of ref's lineage under the convention,
// computed from the repository's tags (original-N, one above the highest
// existing, for the incremental convention; original-patched, overwritten,
// for the floating one). Patching a patch tag continues its original's
// lineage. An image named by digest needs an override.
func ChooseTag(ctx context.Context, client *registry.Client, ref name.Reference, conv tags.Convention, override string) (name.Tag, error) {
	repo := ref.Context()
	if override != "" {
		t, err := name.NewTag(repo.Name()+":"+override, name.StrictValidation)
		if err != nil || t.TagStr() != override {
			return name.Tag{}, fmt.Errorf("tag %q: not a valid tag", override)
		}
		return repo.Tag(override), nil
	}
	t, ok := ref.(name.Tag)
	if !ok {
		return name.Tag{}, fmt.Errorf("image %s is named by digest: give the tag to push (--tag)", ref)
	}
	all, err := client.Tags(ctx, repo)
	if err != nil {
		return name.Tag{}, err
	}
	orig := tags.Classify(t.TagStr()).Original
	lin := tags.Group(all)[orig]
	if lin == nil {
		lin = &tags.Lineage{Original: orig}
	}
	next, err := lin.Next(conv)
	if err != nil {
		return name.Tag{}, fmt.Errorf("repository %s: %w", repo, err)
	}
	return repo.Tag(next), nil
}
