package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/registry"
)

// ConfigArtifactType is the artifact type of the config artifact pushed
// to PolicyRepository.
const ConfigArtifactType = "application/vnd.patchloop.workflow.config.v1+json"

// rawManifest is a manifest pushed as it is.
type rawManifest struct {
	mediaType types.MediaType
	body      []byte
}

// RawManifest returns the manifest.
func (m rawManifest) RawManifest() ([]byte, error) { return m.body, nil }

// MediaType returns the manifest's media type.
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// descriptor describes a blob.
func descriptor(mt types.MediaType, data []byte) (v1.Descriptor, error) {
	h, size, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("digest: %w", err)
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: size}, nil
}

// pushConfig pushes the normalized config as an OCI artifact (an image
// manifest with an artifactType, the empty config and the config as its
// one layer) to <host>/PolicyRepository:<type> and returns its digest.
func (e *Engine) pushConfig(ctx context.Context, host, typ string, normalized []byte) (string, error) {
	client := e.opts.Registry
	repo, err := client.Repository(host + "/" + PolicyRepository)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	empty := []byte("{}")
	opts := client.Options(ctx)
	blobs := []struct {
		mt   types.MediaType
		data []byte
	}{{"application/json", normalized}, {types.OCIEmptyJSON, empty}}
	descs := make([]v1.Descriptor, len(blobs))
	for i, b := range blobs {
		if err := remote.WriteLayer(repo, static.NewLayer(b.data, b.mt), opts...); err != nil {
			return "", fmt.Errorf("push workflow config to %s: %w", repo, err)
		}
		if descs[i], err = descriptor(b.mt, b.data); err != nil {
			return "", err
		}
	}
	descs[0].Annotations = map[string]string{"org.opencontainers.image.title": "continuouspatching.json"}
	body, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  ConfigArtifactType,
		"config":        descs[1],
		"layers":        []v1.Descriptor{descs[0]},
	})
	if err != nil {
		return "", fmt.Errorf("push workflow config: %w", err)
	}
	if err := remote.Put(repo.Tag(typ), rawManifest{mediaType: types.OCIManifestSchema1, body: body}, opts...); err != nil {
		return "", fmt.Errorf("push workflow config to %s:%s: %w", repo, typ, err)
	}
	d, _, err := v1.SHA256(bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("push workflow config: %w", err)
	}
	return d.String(), nil
}

// deletePolicyRepository deletes every manifest of <host>/PolicyRepository.
func (e *Engine) deletePolicyRepository(ctx context.Context, host string) error {
	client := e.opts.Registry
	repo, err := client.Repository(host + "/" + PolicyRepository)
	if err != nil {
		return err
	}
	all, err := client.Tags(ctx, repo)
	if registry.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", repo, err)
	}
	for _, tag := range all {
		desc, err := client.Resolve(ctx, repo.Tag(tag))
		if registry.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("delete %s: %w", repo, err)
		}
		if err := client.Delete(ctx, repo.Digest(desc.Digest.String())); err != nil && !registry.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", repo, err)
		}
	}
	return nil
}
