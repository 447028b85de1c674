package scan

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// maxIndexDepth bounds nested indexes.
const maxIndexDepth = 4

// platformImage is one image of an index and its platform.
type platformImage struct {
	img      v1.Image
	platform string
}

// attestationAnnotation marks BuildKit's attestation manifests in an index.
const attestationAnnotation = "vnd.docker.reference.type"

// expand returns the images of the manifests descs of idx, descending into
// nested indexes, filtered as Resolve documents.
func expand(idx v1.ImageIndex, descs []v1.Descriptor, want *v1.Platform, depth int) ([]platformImage, error) {
	if depth > maxIndexDepth {
		return nil, fmt.Errorf("indexes nested more than %d deep", maxIndexDepth)
	}
	var linux, other []platformImage
	var seen []string
	for _, d := range descs {
		if d.Annotations[attestationAnnotation] != "" {
			continue
		}
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("index %s: %w", d.Digest, err)
			}
			if err := checkDigest(child, d.Digest); err != nil {
				return nil, fmt.Errorf("index %s: %w", d.Digest, err)
			}
			im, err := child.IndexManifest()
			if err != nil {
				return nil, fmt.Errorf("index %s: %w", d.Digest, err)
			}
			imgs, err := expand(child, im.Manifests, nil, depth+1)
			if err != nil {
				return nil, err
			}
			for _, pi := range imgs {
				if strings.HasPrefix(pi.platform, "linux/") {
					linux = append(linux, pi)
				} else {
					other = append(other, pi)
				}
			}
			continue
		case !d.MediaType.IsImage():
			continue // artifacts, signatures, …
		}
		p := d.Platform
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", d.Digest, err)
		}
		if err := checkDigest(img, d.Digest); err != nil {
			return nil, fmt.Errorf("image %s: %w", d.Digest, err)
		}
		if p == nil {
			cfg, err := img.ConfigFile()
			if err != nil {
				return nil, fmt.Errorf("image %s: config: %w", d.Digest, err)
			}
			p = cfg.Platform()
		}
		ps := platformString(p)
		if p == nil || p.OS == "unknown" || p.Architecture == "unknown" {
			continue
		}
		pi := platformImage{img: img, platform: ps}
		if p.OS == "linux" {
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
		if platformMatches(pi.platform, want) {
			return []platformImage{pi}, nil
		}
	}
	return nil, fmt.Errorf("%w: no image for %s (available: %s)", ErrNoPlatform, platformString(want), strings.Join(seen, ", "))
}

// checkDigest checks that a manifest's bytes hash to the digest its index
// names it by. Registry clients check this when they fetch by digest; an
// OCI layout's blobs are only files, so it is checked here for both.
func checkDigest(m interface{ Digest() (v1.Hash, error) }, want v1.Hash) error {
	got, err := m.Digest()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("manifest: %w: the index names %s, the manifest is %s", imagefs.ErrDigestMismatch, want, got)
	}
	return nil
}

// single checks a single-platform image against the wanted platform.
func single(img v1.Image, want *v1.Platform) (platformImage, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return platformImage{}, fmt.Errorf("config: %w", err)
	}
	ps := platformString(cfg.Platform())
	if want != nil && !platformMatches(ps, want) {
		return platformImage{}, fmt.Errorf("%w: the image is %s, not %s", ErrNoPlatform, ps, platformString(want))
	}
	return platformImage{img: img, platform: ps}, nil
}

// platformMatches compares "os/arch[/variant]" with want; the variant
// counts only when want has one.
func platformMatches(ps string, want *v1.Platform) bool {
	parts := strings.SplitN(ps, "/", 3)
	if len(parts) < 2 || parts[0] != want.OS || parts[1] != want.Architecture {
		return false
	}
	if want.Variant == "" {
		return true
	}
	return len(parts) == 3 && parts[2] == want.Variant
}
