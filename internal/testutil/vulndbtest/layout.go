package vulndbtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/vulndb"
)

// WriteLayout writes the database artifact of layer (normally from Pack)
// as an OCI image layout in dir, as `oras copy --to-oci-layout` saves it:
// oci-layout, blobs/sha256/… and an index.json whose one entry carries the
// org.opencontainers.image.ref.name refName. It returns the manifest digest.
func WriteLayout(dir string, layer []byte, refName string) (v1.Hash, error) {
	blob := func(data []byte, mt types.MediaType) (v1.Descriptor, error) {
		h, n, err := v1.SHA256(bytes.NewReader(data))
		if err != nil {
			return v1.Descriptor{}, err
		}
		path := filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return v1.Descriptor{}, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return v1.Descriptor{}, err
		}
		return v1.Descriptor{MediaType: mt, Size: n, Digest: h}, nil
	}
	config, err := blob([]byte("{}"), vulndb.ConfigMediaType)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write test layout: %w", err)
	}
	content, err := blob(layer, vulndb.LayerMediaType)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write test layout: %w", err)
	}
	content.Annotations = map[string]string{titleAnnotation: "db.tar.gz"}
	raw, err := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: config, Layers: []v1.Descriptor{content}})
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write test layout: %w", err)
	}
	m, err := blob(raw, types.OCIManifestSchema1)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write test layout: %w", err)
	}
	m.Annotations = map[string]string{"org.opencontainers.image.ref.name": refName}
	index, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{m}})
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write test layout: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		return v1.Hash{}, fmt.Errorf("write test layout: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return v1.Hash{}, fmt.Errorf("write test layout: %w", err)
	}
	return m.Digest, nil
}
