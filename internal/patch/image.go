package patch

import (
	"fmt"
	"maps"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Provenance labels and annotations of a patched image.
const (
	// AnnotationBaseDigest is the digest of the image (or index) patched.
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
	// AnnotationBaseName is the reference of the image patched.
	AnnotationBaseName = "org.opencontainers.image.base.name"
	// LabelPatchedBy says that Patchloop produced the image.
	LabelPatchedBy = "dev.patchloop.patched-by"
	// PatchedByValue is the value of LabelPatchedBy.
	PatchedByValue = "patchloop"
)

// Base identifies the image a patch applies to.
type Base struct {
	// Name is the reference as the user gave it ("host/repo:1.0").
	Name string
	// Digest is the digest of the image manifest.
	Digest v1.Hash
}

// AppendLayer returns base with the patch layer on top: a history entry
// describing the change (created at now), the provenance labels in the
// config, and, for OCI manifests, the same provenance as manifest
// annotations. The layer takes the media type family of the base
// manifest (Docker or OCI).
func AppendLayer(base v1.Image, layer v1.Layer, historyText string, from Base, now time.Time) (v1.Image, error) {
	mt, err := base.MediaType()
	if err != nil {
		return nil, fmt.Errorf("image %s: media type: %w", from.Name, err)
	}
	cfg, err := base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", from.Name, err)
	}
	prov := map[string]string{
		AnnotationBaseDigest: from.Digest.String(),
		AnnotationBaseName:   from.Name,
		LabelPatchedBy:       PatchedByValue,
	}
	c := *cfg.Config.DeepCopy()
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	maps.Copy(c.Labels, prov)
	img, err := mutate.Config(base, c)
	if err != nil {
		return nil, fmt.Errorf("image %s: labels: %w", from.Name, err)
	}
	layerType := types.OCILayer
	if mt == types.DockerManifestSchema2 {
		layerType = types.DockerLayer
	}
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: layerType,
		History: v1.History{
			Created:   v1.Time{Time: now.UTC().Truncate(time.Second)},
			CreatedBy: historyText,
			Comment:   "patched by patchloop",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("image %s: appending patch layer: %w", from.Name, err)
	}
	if mt == types.OCIManifestSchema1 {
		img = mutate.Annotations(img, prov).(v1.Image)
	}
	return img, nil
}
