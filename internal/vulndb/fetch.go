package vulndb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
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
	f.log.InfoContext(ctx, "downloading vulnerability database", "repository", ref.String(), "digest", desc.Digest.String())
	if err := extractArtifact(ctx, img, ref.String(), dir, f.maxDBSize, f.log); err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

// extractArtifact checks that img is Trivy's database artifact (one layer
// of LayerMediaType) and extracts its layer into the empty directory dir,
// checking the layer's bytes against its digest; what names the artifact
// in errors.
func extractArtifact(ctx context.Context, img v1.Image, what, dir string, maxDBSize int64, log *slog.Logger) error {
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("read database manifest %s: %w", what, err)
	}
	if len(m.Layers) != 1 {
		return fmt.Errorf("database artifact %s has %d layers, want 1", what, len(m.Layers))
	}
	desc := m.Layers[0]
	if desc.MediaType != LayerMediaType {
		return fmt.Errorf("database artifact %s has a %s layer, want %s", what, desc.MediaType, LayerMediaType)
	}
	layer, err := img.LayerByDigest(desc.Digest)
	if err != nil {
		return fmt.Errorf("database layer of %s: %w", what, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("read database layer of %s: %w", what, err)
	}
	defer func() { _ = rc.Close() }()
	h := sha256.New()
	counted := &countingReader{r: io.TeeReader(rc, h)}
	if err := extractDB(ctx, counted, dir, maxDBSize, log); err != nil {
		return fmt.Errorf("database artifact %s: %w", what, err)
	}
	// Read what is left (tar padding, gzip trailer) so that the digest
	// covers every byte of the layer.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return fmt.Errorf("verify database layer of %s: %w", what, err)
	}
	got := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	if desc.Digest.Algorithm != "sha256" || got != desc.Digest || counted.n != desc.Size {
		return fmt.Errorf("%w: database layer of %s is %s (%d bytes), but its manifest names %s (%d bytes)",
			errDigestMismatch, what, got, counted.n, desc.Digest, desc.Size)
	}
	return nil
}

// errDigestMismatch marks content that is not what its digest names.
var errDigestMismatch = errors.New("digest mismatch")

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
