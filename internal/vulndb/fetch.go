package vulndb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/registry"
)

// Media types of Trivy's database artifact.
const (
	// LayerMediaType is the media type of the artifact's single layer, a
	// gzipped tar of trivy.db and metadata.json.
	LayerMediaType = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
	// ConfigMediaType is the media type of the artifact's (empty) config.
	ConfigMediaType = "application/vnd.aquasec.trivy.config.v1+json"
)

// DefaultRepositories are where Trivy publishes its database, in the order
// Update tries them.
var DefaultRepositories = []string{
	"mirror.gcr.io/aquasec/trivy-db:2",
	"ghcr.io/aquasecurity/trivy-db:2",
}

// fetcher downloads the database artifact from registries.
type fetcher struct {
	client    *registry.Client
	maxDBSize int64
	log       *slog.Logger
}

// withDefaultTag appends the schema version as the tag of a repository
// given without a tag or digest, as Trivy does: "host/trivy-db" means
// "host/trivy-db:2".
func withDefaultTag(repo string) string {
	last := repo[strings.LastIndex(repo, "/")+1:]
	if strings.ContainsAny(last, ":@") {
		return repo
	}
	return repo + ":" + strconv.Itoa(SchemaVersion)
}

// fetch downloads the artifact at repo and extracts it into the empty
// directory dir, returning the artifact's manifest digest.
func (f fetcher) fetch(ctx context.Context, repo, dir string) (string, error) {
	ref, err := f.client.ParseReference(withDefaultTag(repo))
	if err != nil {
		return "", fmt.Errorf("database repository: %w", err)
	}
	opts := f.client.Options(ctx)
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return "", fmt.Errorf("fetch database manifest from %s: %w", ref, err)
	}
	if !desc.MediaType.IsImage() {
		return "", fmt.Errorf("database artifact %s is a %s, not a single artifact manifest", ref, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return "", fmt.Errorf("read database artifact %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return "", fmt.Errorf("read database manifest %s: %w", ref, err)
	}
	if len(m.Layers) != 1 {
		return "", fmt.Errorf("database artifact %s has %d layers, want 1", ref, len(m.Layers))
	}
	if mt := m.Layers[0].MediaType; mt != LayerMediaType {
		return "", fmt.Errorf("database artifact %s has a %s layer, want %s", ref, mt, LayerMediaType)
	}
	layer, err := img.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		return "", fmt.Errorf("database layer of %s: %w", ref, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return "", fmt.Errorf("download database layer of %s: %w", ref, err)
	}
	defer func() { _ = rc.Close() }()

	f.log.InfoContext(ctx, "downloading vulnerability database", "repository", ref.String(),
		"digest", desc.Digest.String(), "size", m.Layers[0].Size)
	if err := extractDB(ctx, rc, dir, f.maxDBSize, f.log); err != nil {
		return "", fmt.Errorf("database artifact %s: %w", ref, err)
	}
	// Read what is left (tar padding, gzip trailer) so the registry client
	// checks the layer's digest, which it does on reaching the end.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return "", fmt.Errorf("verify database layer of %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}
