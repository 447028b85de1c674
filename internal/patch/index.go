package patch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// patchedIndex is an index whose manifests for some platforms are replaced
// by patched images, in place: order, platforms and descriptor annotations
// of every entry are kept, and entries not replaced keep their original
// descriptors.
type patchedIndex struct {
	base     v1.ImageIndex
	manifest *v1.IndexManifest
	raw      []byte
	images   map[v1.Hash]v1.Image
}

// ReplaceManifests returns idx with the images named by their original
// digest in patched put in their place, and annotations added to the
// index.
func ReplaceManifests(idx v1.ImageIndex, patched map[v1.Hash]v1.Image, annotations map[string]string) (v1.ImageIndex, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	m := im.DeepCopy()
	out := &patchedIndex{base: idx, images: map[v1.Hash]v1.Image{}}
	for i, d := range m.Manifests {
		img, ok := patched[d.Digest]
		if !ok {
			continue
		}
		nd, err := partial.Descriptor(img)
		if err != nil {
			return nil, fmt.Errorf("patched image for %s: %w", d.Digest, err)
		}
		d.Digest, d.Size, d.MediaType = nd.Digest, nd.Size, nd.MediaType
		m.Manifests[i] = d
		out.images[d.Digest] = img
	}
	if len(annotations) > 0 && m.MediaType != types.DockerManifestList {
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		maps.Copy(m.Annotations, annotations)
	}
	out.manifest = m
	if out.raw, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return out, nil
}

// MediaType returns the index's media type.
func (p *patchedIndex) MediaType() (types.MediaType, error) {
	if p.manifest.MediaType != "" {
		return p.manifest.MediaType, nil
	}
	return p.base.MediaType()
}

// Digest returns the digest of the new index manifest.
func (p *patchedIndex) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(p.raw))
	return h, err
}

// Size returns the size of the new index manifest.
func (p *patchedIndex) Size() (int64, error) { return int64(len(p.raw)), nil }

// IndexManifest returns the new index manifest.
func (p *patchedIndex) IndexManifest() (*v1.IndexManifest, error) { return p.manifest.DeepCopy(), nil }

// RawManifest returns the new index manifest's bytes.
func (p *patchedIndex) RawManifest() ([]byte, error) { return p.raw, nil }

// Image returns a patched image, or an original one of the base index.
func (p *patchedIndex) Image(h v1.Hash) (v1.Image, error) {
	if img, ok := p.images[h]; ok {
		return img, nil
	}
	return p.base.Image(h)
}

// ImageIndex returns a nested index of the base index.
func (p *patchedIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) { return p.base.ImageIndex(h) }
