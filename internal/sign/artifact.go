package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of the OCI 1.1 artifacts this package writes.
const (
	// MediaTypeEmpty is the OCI empty descriptor's media type ("{}").
	MediaTypeEmpty types.MediaType = "application/vnd.oci.empty.v1+json"
)

// emptyJSON is the content of the OCI empty descriptor.
var emptyJSON = []byte("{}")

// Blob is one layer of an artifact.
type Blob struct {
	MediaType   types.MediaType
	Data        []byte
	Annotations map[string]string
}

// Artifact is an OCI image manifest carrying blobs, optionally with a
// subject (an OCI 1.1 referrer).
type Artifact struct {
	// ArtifactType is the manifest's artifactType; empty for none.
	ArtifactType string
	// ConfigMediaType and Config are the config blob; empty means the
	// OCI empty descriptor.
	ConfigMediaType types.MediaType
	Config          []byte
	Blobs           []Blob
	Annotations     map[string]string
	// Subject, when set, makes the artifact a referrer of that manifest.
	Subject *v1.Descriptor
}

// Image returns the artifact as an image go-containerregistry can push.
func (a Artifact) Image() (v1.Image, error) {
	cfg, cmt := a.Config, a.ConfigMediaType
	if cmt == "" {
		cfg, cmt = emptyJSON, MediaTypeEmpty
	}
	h, size, err := v1.SHA256(bytes.NewReader(cfg))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: cmt, Size: size, Digest: h},
		Layers:        []v1.Descriptor{},
		Annotations:   a.Annotations,
		Subject:       a.Subject,
		ArtifactType:  a.ArtifactType,
	}
	if cmt == MediaTypeEmpty {
		m.Config.Data = emptyJSON
	}
	blobs := map[v1.Hash]Blob{}
	for _, b := range a.Blobs {
		h, size, err := v1.SHA256(bytes.NewReader(b.Data))
		if err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: b.MediaType, Size: size, Digest: h, Annotations: b.Annotations})
		blobs[h] = b
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&artifactCore{manifest: raw, config: cfg, blobs: blobs})
}

// Push writes the artifact to the target's repository (by digest, no
// tag) and returns its descriptor. On registries without the referrers
// API, go-containerregistry adds it to the subject's sha256-<hex> tag
// index (the OCI referrers tag schema).
func (a Artifact) Push(ctx context.Context, t Target) (v1.Descriptor, error) {
	img, err := a.Image()
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := partial.Descriptor(img)
	if err != nil {
		return v1.Descriptor{}, err
	}
	d.ArtifactType = a.ArtifactType
	ref := t.Repo.Digest(d.Digest.String())
	if err := remote.Write(ref, img, t.opts(ctx)...); err != nil {
		return v1.Descriptor{}, fmt.Errorf("push %s artifact to %s: %w", a.ArtifactType, t.Repo, err)
	}
	return *d, nil
}

// artifactCore is the raw parts of an artifact manifest.
type artifactCore struct {
	manifest []byte
	config   []byte
	blobs    map[v1.Hash]Blob
}

func (c *artifactCore) RawConfigFile() ([]byte, error) { return c.config, nil }
func (c *artifactCore) MediaType() (types.MediaType, error) {
	return types.OCIManifestSchema1, nil
}
func (c *artifactCore) RawManifest() ([]byte, error) { return c.manifest, nil }
func (c *artifactCore) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	b, ok := c.blobs[h]
	if !ok {
		return nil, fmt.Errorf("artifact has no blob %s", h)
	}
	return &blobLayer{b: b, digest: h}, nil
}

// blobLayer is one blob as a compressed layer (pushed as it is).
type blobLayer struct {
	b      Blob
	digest v1.Hash
}

func (l *blobLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.b.Data)), nil
}
func (l *blobLayer) Size() (int64, error)                { return int64(len(l.b.Data)), nil }
func (l *blobLayer) MediaType() (types.MediaType, error) { return l.b.MediaType, nil }

// Referrers lists the manifests whose subject is the target, of the
// given artifact type (all when empty), through the referrers API or the
// referrers tag schema.
func Referrers(ctx context.Context, t Target, artifactType string) ([]v1.Descriptor, error) {
	opts := t.opts(ctx)
	if artifactType != "" {
		opts = append(opts, remote.WithFilter("artifactType", artifactType))
	}
	idx, err := remote.Referrers(t.Digest(), opts...)
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", t, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", t, err)
	}
	if len(im.Manifests) > maxReferrers {
		return nil, fmt.Errorf("list referrers of %s: %d referrers, over the limit of %d", t, len(im.Manifests), maxReferrers)
	}
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		// The filter is a hint the registry may ignore.
		if artifactType == "" || d.ArtifactType == artifactType {
			out = append(out, d)
		}
	}
	return out, nil
}

// maxReferrers bounds the referrers listed for one manifest; maxTries
// the signatures of one scheme a verifier fetches and checks for it, so
// that a registry (or anyone who can push) cannot make verification
// unbounded.
const (
	maxReferrers = 4096
	maxTries     = 32
	// maxSigLayers bounds the signatures of a .sig tag read (and kept
	// when signing again).
	maxSigLayers = 256
)

// maxBlob bounds the blobs a verifier reads: bundles, simple-signing
// payloads, envelopes (attachments themselves are not read).
const maxBlob = 4 << 20

// fetchManifest reads an artifact manifest by digest (verified against
// it by go-containerregistry).
func fetchManifest(ctx context.Context, t Target, d v1.Hash) (*v1.Manifest, v1.Image, error) {
	img, err := remote.Image(t.Repo.Digest(d.String()), t.opts(ctx)...)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s@%s: %w", t.Repo, d, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s@%s: %w", t.Repo, d, err)
	}
	return m, img, nil
}

// readBlob reads one blob of an artifact, checked against its digest.
func readBlob(img v1.Image, d v1.Descriptor) ([]byte, error) {
	if d.Size > maxBlob {
		return nil, fmt.Errorf("blob %s is %d bytes, over the %d limit", d.Digest, d.Size, maxBlob)
	}
	l, err := img.LayerByDigest(d.Digest)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxBlob+1))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if h != d.Digest || int64(len(data)) != d.Size {
		return nil, fmt.Errorf("blob %s: content does not match its digest", d.Digest)
	}
	return data, nil
}

// ReadReferrer reads the manifest d listed as a referrer of t and checks
// that its subject is t: a referrers list (or a registry) naming another
// manifest's referrer is refused. The manifest, not the list's
// descriptor, is what to take the artifact type and annotations from.
func ReadReferrer(ctx context.Context, t Target, d v1.Hash) (*v1.Manifest, error) {
	m, _, err := fetchManifest(ctx, t, d)
	if err != nil {
		return nil, err
	}
	if m.Subject == nil || m.Subject.Digest != t.Descriptor.Digest {
		return nil, fmt.Errorf("%s@%s: %w", t.Repo, d, ErrOtherSubject)
	}
	return m, nil
}
