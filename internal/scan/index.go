package scan

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/platform"
)

// platformImage is one image of an index and its platform.
type platformImage struct {
	img      v1.Image
	platform string
}

// expand returns the images of the manifests descs of idx, as
// platform.Walk finds them (nested indexes followed, attestations and
// artifacts left out), filtered as Resolve documents: the wanted platform,
// else the Linux images, else the others.
func expand(idx v1.ImageIndex, descs []v1.Descriptor, want *v1.Platform) ([]platformImage, error) {
	ms, err := platform.Walk(idx, descs)
	if err != nil {
		return nil, err
	}
	var linux, other []platformImage
	var seen []string
	for _, m := range ms {
		if m.Skip != "" {
			continue
		}
		img, err := m.Image()
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", m.Descriptor.Digest, err)
		}
		pi := platformImage{img: img, platform: m.String()}
		if m.Platform.OS == "linux" {
			linux = append(linux, pi)
		} else {
			other = append(other, pi)
		}
	}
	all := append(linux, other...)
	if want == nil {
		if len(linux) > 0 {
			return linux, nil
		}
		if len(other) == 0 {
			return nil, fmt.Errorf("no image for a known platform")
		}
		return other, nil
	}
	for _, pi := range all {
		seen = append(seen, pi.platform)
		if platform.Matches(pi.platform, want) {
			return []platformImage{pi}, nil
		}
	}
	return nil, fmt.Errorf("%w: no image for %s (available: %s)", ErrNoPlatform, platform.String(want), strings.Join(seen, ", "))
}

// single checks a single-platform image against the wanted platform.
func single(img v1.Image, want *v1.Platform) (platformImage, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return platformImage{}, fmt.Errorf("config: %w", err)
	}
	ps := platform.String(cfg.Platform())
	if want != nil && !platform.Matches(ps, want) {
		return platformImage{}, fmt.Errorf("%w: the image is %s, not %s", ErrNoPlatform, ps, platform.String(want))
	}
	return platformImage{img: img, platform: ps}, nil
}
