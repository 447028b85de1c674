package imagefs

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// MaxLayers is the most layers an image may have. Every layer costs a
// request and a place in every lookup; real images stay far below it
// (Docker's own limit is 127 in most storage drivers).
const MaxLayers = 500

// ErrTooManyLayers is matched (with errors.Is) by the error for an image
// with more than MaxLayers layers.
var ErrTooManyLayers = errors.New("too many layers")

// layerDesc is a layer's identity with the size and media type its
// manifest gives the blob.
type layerDesc struct {
	Layer
	size      int64
	mediaType types.MediaType
}

// ImageLayers returns the layers of img, bottom layer first, reading its
// manifest and config once each and no layer: the digests come from the
// manifest, the diff_ids from the config. The config's bytes are checked
// against the manifest's config digest (an error matching
// ErrDigestMismatch), and more than MaxLayers layers is an error matching
// ErrTooManyLayers.
func ImageLayers(img v1.Image) ([]Layer, error) {
	_, descs, err := describe(img)
	if err != nil {
		return nil, fmt.Errorf("imagefs: %w", err)
	}
	out := make([]Layer, len(descs))
	for i, d := range descs {
		out[i] = d.Layer
	}
	return out, nil
}

// describe reads the manifest digest of img and its layers' descriptions,
// bottom layer first.
func describe(img v1.Image) (v1.Hash, []layerDesc, error) {
	id, err := img.Digest()
	if err != nil {
		return v1.Hash{}, nil, fmt.Errorf("image digest: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return id, nil, fmt.Errorf("image %s: manifest: %w", id, err)
	}
	if n := len(m.Layers); n > MaxLayers {
		return id, nil, fmt.Errorf("image %s has %d layers, more than the %d supported: %w", id, n, MaxLayers, ErrTooManyLayers)
	}
	cfg, err := verifiedConfig(img, id, m)
	if err != nil {
		return id, nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return id, nil, fmt.Errorf("image %s: the manifest lists %d layers but the config %d diff_ids", id, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	descs := make([]layerDesc, len(m.Layers))
	for i, l := range m.Layers {
		descs[i] = layerDesc{
			Layer:     Layer{Index: i, Digest: l.Digest, DiffID: cfg.RootFS.DiffIDs[i]},
			size:      l.Size,
			mediaType: l.MediaType,
		}
	}
	return id, descs, nil
}

// verifiedConfig reads the config of img, checks its bytes against the
// manifest's config digest and parses them.
func verifiedConfig(img v1.Image, id v1.Hash, m *v1.Manifest) (*v1.ConfigFile, error) {
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	h, err := v1.Hasher(m.Config.Digest.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("image %s: config digest %s: %w", id, m.Config.Digest, err)
	}
	h.Write(raw)
	if got := (v1.Hash{Algorithm: m.Config.Digest.Algorithm, Hex: hex.EncodeToString(h.Sum(nil))}); got != m.Config.Digest {
		return nil, &DigestMismatchError{Image: id, Layer: Layer{Index: -1}, What: whatConfig, Want: m.Config.Digest, Got: got}
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("image %s: config %s: %w", id, m.Config.Digest, err)
	}
	return cfg, nil
}
