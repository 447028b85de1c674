package vulndbtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/vulndb"
)

// titleAnnotation names the layer's file, as ORAS records it.
const titleAnnotation = "org.opencontainers.image.title"

// Pack returns the artifact layer for the database in dir: a gzipped tar
// holding trivy.db and metadata.json at its top level, as Trivy publishes.
func Pack(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range []string{vulndb.DBFile, vulndb.MetadataFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("pack test database: %w", err)
		}
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("pack test database: %w", err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("pack test database: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("pack test database: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("pack test database: %w", err)
	}
	return buf.Bytes(), nil
}

// manifest is an OCI image manifest that remote.Put can push as is.
type manifest []byte

// RawManifest returns the manifest's bytes.
func (m manifest) RawManifest() ([]byte, error) { return m, nil }

// MediaType returns the OCI image manifest media type.
func (m manifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// PushArtifact pushes layer (normally from Pack, but any bytes, to test
// bad artifacts) to ref as Trivy's database artifact: an OCI manifest with
// Trivy's config media type over an empty JSON config, and one layer of
// vulndb.LayerMediaType titled db.tar.gz. It returns the manifest digest.
func PushArtifact(ctx context.Context, ref string, layer []byte, opts ...remote.Option) (v1.Hash, error) {
	return PushLayer(ctx, ref, layer, vulndb.LayerMediaType, opts...)
}

// PushLayer is PushArtifact with another layer media type, to test that
// foreign artifacts are refused.
func PushLayer(ctx context.Context, ref string, layer []byte, mediaType string, opts ...remote.Option) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("push test artifact: %w", err)
	}
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	config := static.NewLayer([]byte("{}"), vulndb.ConfigMediaType)
	content := static.NewLayer(layer, types.MediaType(mediaType))
	var descs []v1.Descriptor
	for _, l := range []v1.Layer{config, content} {
		if err := remote.WriteLayer(r.Context(), l, opts...); err != nil {
			return v1.Hash{}, fmt.Errorf("push test artifact blob to %s: %w", ref, err)
		}
		d, err := l.Digest()
		if err != nil {
			return v1.Hash{}, fmt.Errorf("push test artifact: %w", err)
		}
		size, err := l.Size()
		if err != nil {
			return v1.Hash{}, fmt.Errorf("push test artifact: %w", err)
		}
		mt, err := l.MediaType()
		if err != nil {
			return v1.Hash{}, fmt.Errorf("push test artifact: %w", err)
		}
		descs = append(descs, v1.Descriptor{MediaType: mt, Size: size, Digest: d})
	}
	descs[1].Annotations = map[string]string{titleAnnotation: "db.tar.gz"}
	raw, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        descs[0],
		Layers:        descs[1:],
	})
	if err != nil {
		return v1.Hash{}, fmt.Errorf("push test artifact: %w", err)
	}
	if err := remote.Put(r, manifest(raw), opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("push test artifact manifest to %s: %w", ref, err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("push test artifact: %w", err)
	}
	return h, nil
}
