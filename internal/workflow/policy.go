package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/config"
	"github.com/patchloop/patchloop/internal/registry"
)

// ConfigArtifactType is the artifact type of the config artifact pushed
// to PolicyRepository.
const ConfigArtifactType = "application/vnd.patchloop.workflow.config.v1+json"

// ConfigTag is the tag of the config artifact in PolicyRepository, as the
// reference's az extension tags it (csscpolicies/patchpolicy:v1).
const ConfigTag = "v1"

// maxConfigSize bounds the config artifact's manifest and layer.
const maxConfigSize = 4 << 20

// ErrConfigArtifact says a workflow's config artifact is missing or not a
// valid workflow config.
var ErrConfigArtifact = errors.New("workflow config artifact")

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
// one layer) to <host>/PolicyRepository:ConfigTag and returns its digest.
func (e *Engine) pushConfig(ctx context.Context, host string, normalized []byte) (string, error) {
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
	if err := remote.Put(repo.Tag(ConfigTag), rawManifest{mediaType: types.OCIManifestSchema1, body: body}, opts...); err != nil {
		return "", fmt.Errorf("push workflow config to %s:%s: %w", repo, ConfigTag, err)
	}
	d, _, err := v1.SHA256(bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("push workflow config: %w", err)
	}
	return d.String(), nil
}

// policyRepositoryKept asks the registry's catalog whether the emptied
// PolicyRepository is still listed, and returns why and what to do when it
// is. A registry whose catalog cannot be read is not reported.
func (e *Engine) policyRepositoryKept(ctx context.Context, host string) string {
	client := e.opts.Registry
	reg, err := client.Registry(host)
	if err != nil {
		return ""
	}
	repos, err := client.Catalog(ctx, reg)
	if err != nil || !slices.Contains(repos, PolicyRepository) {
		return ""
	}
	return fmt.Sprintf("the config artifact is deleted, but registry %s still lists the empty repository %s: "+
		"the registry API has no repository delete (distribution and Zot keep empty repositories; Harbor and ACR remove them from their own API or UI); "+
		"remove it with the registry's own tools (for distribution: delete its directory from storage, then run garbage-collect)", host, PolicyRepository)
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

// policyConfig is a workflow config read from its artifact.
type policyConfig struct {
	cfg        *config.Config
	normalized []byte
	digest     string // the manifest's
	ref        string // where it was read, for messages
}

// fetchConfig reads the workflow config from <host>/PolicyRepository:
// ConfigTag, or from the tag typ that Patchloop used before when ConfigTag
// does not exist. It accepts what Patchloop pushes and what the az acrcssc
// extension (oras push of one JSON file) pushes: an OCI image manifest or
// a Docker schema 2 manifest with exactly one layer, whatever its media
// type, holding the config JSON; the config blob is not read. The layer
// is checked against its digest. A missing or invalid artifact is
// ErrConfigArtifact; registry errors are returned as they are.
func (e *Engine) fetchConfig(ctx context.Context, host, typ string) (*policyConfig, error) {
	client := e.opts.Registry
	repo, err := client.Repository(host + "/" + PolicyRepository)
	if err != nil {
		return nil, err
	}
	ref := repo.Tag(ConfigTag)
	desc, err := client.Get(ctx, ref)
	if registry.IsNotFound(err) {
		ref = repo.Tag(typ)
		desc, err = client.Get(ctx, ref)
	}
	if registry.IsNotFound(err) {
		return nil, fmt.Errorf("%w %s:%s not found: push the config again with `patchloop workflow update --config FILE`", ErrConfigArtifact, repo, ConfigTag)
	}
	if err != nil {
		return nil, err
	}
	where := ref.String() + "@" + desc.Digest.String()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %s: %s; push a valid config with `patchloop workflow update --config FILE`", ErrConfigArtifact, where, fmt.Sprintf(format, args...))
	}
	switch desc.MediaType {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
	default:
		return nil, bad("media type %s: want an OCI image manifest with one layer holding the JSON config", desc.MediaType)
	}
	if len(desc.Manifest) > maxConfigSize {
		return nil, bad("manifest of %d bytes is too large", len(desc.Manifest))
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, bad("manifest: %v", err)
	}
	if len(m.Layers) != 1 {
		return nil, bad("%d layers: want exactly one, the JSON config", len(m.Layers))
	}
	layer := m.Layers[0]
	if layer.Size > maxConfigSize || layer.Size < 0 {
		return nil, bad("layer of %d bytes: at most %d", layer.Size, maxConfigSize)
	}
	data, err := e.readBlob(ctx, repo.Digest(layer.Digest.String()), layer)
	if err != nil {
		if registry.IsNotFound(err) {
			return nil, bad("layer %s: %v", layer.Digest, err)
		}
		return nil, err
	}
	cfg, err := config.Parse(where, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w; push a valid config with `patchloop workflow update --config FILE`", ErrConfigArtifact, err)
	}
	normalized, err := cfg.JSON()
	if err != nil {
		return nil, err
	}
	return &policyConfig{cfg: cfg, normalized: normalized, digest: desc.Digest.String(), ref: where}, nil
}

// readBlob downloads a small blob and checks it against its descriptor's
// size and digest.
func (e *Engine) readBlob(ctx context.Context, ref name.Digest, d v1.Descriptor) ([]byte, error) {
	l, err := remote.Layer(ref, e.opts.Registry.Options(ctx)...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, d.Size+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != d.Size || h != d.Digest {
		return nil, fmt.Errorf("%w %s: layer does not match its digest and size in the manifest", ErrConfigArtifact, ref)
	}
	return data, nil
}
