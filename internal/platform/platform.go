// Package platform walks multi-platform image indexes with one set of
// rules, shared by the scanner and the patcher: which manifests are images
// of a known platform, which are attestations or artifacts, and how nested
// indexes are followed. What to do with each image (scan the Linux ones,
// patch them, match a wanted platform) stays with the caller.
package platform

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// MaxDepth bounds nested indexes.
const MaxDepth = 4

// Reasons a manifest is not an image of a known platform.
const (
	// SkipAttestation: a BuildKit attestation manifest (the
	// vnd.docker.reference.type annotation, or the unknown/unknown
	// platform).
	SkipAttestation = "attestation manifest"
	// SkipNotImage: neither an image nor an index (signatures, SBOMs and
	// other artifacts).
	SkipNotImage = "not an image manifest"
	// SkipUnknownPlatform: an image whose descriptor and config name no
	// OS.
	SkipUnknownPlatform = "unknown platform"
)

// attestationAnnotation marks BuildKit's attestation manifests in an index.
const attestationAnnotation = "vnd.docker.reference.type"

// Manifest is one manifest an index lists, directly or through nested
// indexes.
type Manifest struct {
	// Descriptor is the manifest's descriptor, as its index lists it.
	Descriptor v1.Descriptor
	// Index is the index that lists it: the walked one, or a nested one.
	Index v1.ImageIndex
	// Nested is true when a nested index lists it.
	Nested bool
	// Platform is the image's platform, from the descriptor or else the
	// image's config; nil when skipped before it was known.
	Platform *v1.Platform
	// Skip says why the manifest is not an image of a known platform
	// (SkipAttestation, SkipNotImage, SkipUnknownPlatform); empty for the
	// images to scan or patch.
	Skip string
}

// Image returns the manifest's image.
func (m Manifest) Image() (v1.Image, error) {
	img, err := m.Index.Image(m.Descriptor.Digest)
	if err != nil {
		return nil, err
	}
	if err := checkDigest(img, m.Descriptor.Digest); err != nil {
		return nil, err
	}
	return img, nil
}

// checkDigest checks that a manifest's bytes hash to the digest its index
// names it by. Registry clients check this when they fetch by digest; an
// OCI layout's blobs are only files, so it is checked here for every source.
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

// String returns the manifest's platform as "os/arch[/variant]", or "".
func (m Manifest) String() string { return String(m.Platform) }

// Walk classifies the manifests descs of idx (its whole list, or a
// subset such as the entries of an OCI layout with one tag), descending
// into nested indexes up to MaxDepth deep, in order. An image without a
// platform in its descriptor is given its config's. Nested indexes
// themselves are not returned, only what they list.
func Walk(idx v1.ImageIndex, descs []v1.Descriptor) ([]Manifest, error) {
	return walk(idx, descs, false, 0)
}

// walk walks descs of idx at depth.
func walk(idx v1.ImageIndex, descs []v1.Descriptor, nested bool, depth int) ([]Manifest, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("indexes nested more than %d deep", MaxDepth)
	}
	var out []Manifest
	for _, d := range descs {
		m := Manifest{Descriptor: d, Index: idx, Nested: nested, Platform: d.Platform}
		switch {
		case d.Annotations[attestationAnnotation] != "" || isUnknown(d.Platform):
			m.Skip = SkipAttestation
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
			ms, err := walk(child, im.Manifests, true, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
			continue
		case !d.MediaType.IsImage():
			m.Skip = SkipNotImage
		case d.Platform == nil:
			img, err := m.Image()
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", d.Digest, err)
			}
			cfg, err := img.ConfigFile()
			if err != nil {
				return nil, fmt.Errorf("image %s: config: %w", d.Digest, err)
			}
			m.Platform = cfg.Platform()
		}
		if m.Skip == "" && (m.Platform == nil || m.Platform.OS == "") {
			m.Skip = SkipUnknownPlatform
		} else if m.Skip == "" && isUnknown(m.Platform) {
			m.Skip = SkipAttestation
		}
		out = append(out, m)
	}
	return out, nil
}

// isUnknown reports whether p is BuildKit's unknown/unknown platform.
func isUnknown(p *v1.Platform) bool {
	return p != nil && (p.OS == "unknown" || p.Architecture == "unknown")
}

// String prints os/arch[/variant], or "" when p names no OS.
func String(p *v1.Platform) string {
	if p == nil || p.OS == "" {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Matches compares "os/arch[/variant]" with want; the variant counts only
// when want has one.
func Matches(s string, want *v1.Platform) bool {
	parts := strings.SplitN(s, "/", 3)
	if len(parts) < 2 || parts[0] != want.OS || parts[1] != want.Architecture {
		return false
	}
	if want.Variant == "" {
		return true
	}
	return len(parts) == 3 && parts[2] == want.Variant
}
