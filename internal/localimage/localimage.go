// Package localimage reads an image kept on disk, an OCI image layout
// directory or a `docker save` / `crane pull` tarball, and checks every
// manifest, config and layer against the digest naming it, so that what is
// pushed from it is exactly what its digests promise.
package localimage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// Formats of a source.
const (
	FormatLayout  = "OCI layout"
	FormatTarball = "tarball"
)

// refNameAnnotation names an OCI layout's index entries.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// ErrDigestMismatch marks content that is not what its digest names.
var ErrDigestMismatch = errors.New("content does not match its digest")

// Image is an image or an index read from disk, every byte checked.
type Image struct {
	// Taggable is the v1.Image or v1.ImageIndex, for registry.Client.Push.
	Taggable remote.Taggable
	// Digest and MediaType are the manifest's.
	Digest    v1.Hash
	MediaType types.MediaType
	// Format is FormatLayout or FormatTarball.
	Format string
}

// Open reads the image at path: an OCI image layout directory (its
// index.json lists what it holds) or a tarball in the `docker save` format
// (manifest.json). ref picks one of several: in a layout, an entry's
// org.opencontainers.image.ref.name annotation (a tag such as "bookworm",
// or a whole reference) or its digest; in a tarball, one of its RepoTags.
// Open reads everything once to check it.
func Open(ctx context.Context, path, ref string) (*Image, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("image source %s: want an OCI layout directory or a docker save tarball: %w", path, err)
	}
	var img *Image
	if info.IsDir() {
		img, err = openLayout(ctx, path, ref)
	} else {
		img, err = openTarball(ctx, path, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("image source %s: %w", path, err)
	}
	return img, nil
}

func openLayout(ctx context.Context, path, ref string) (*Image, error) {
	if _, err := os.Stat(filepath.Join(path, "oci-layout")); err != nil {
		return nil, errors.New("the directory is not an OCI image layout (no oci-layout file)")
	}
	p, err := layout.FromPath(path)
	if err != nil {
		return nil, fmt.Errorf("read OCI layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("read OCI layout index: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read OCI layout index: %w", err)
	}
	desc, err := pick(im.Manifests, ref)
	if err != nil {
		return nil, err
	}
	t, err := child(idx, desc)
	if err != nil {
		return nil, err
	}
	if err := check(ctx, t, desc); err != nil {
		return nil, err
	}
	return &Image{Taggable: t, Digest: desc.Digest, MediaType: desc.MediaType, Format: FormatLayout}, nil
}

// pick returns the one entry of a layout's index, or the one ref names.
func pick(ms []v1.Descriptor, ref string) (v1.Descriptor, error) {
	if ref == "" && len(ms) == 1 {
		return ms[0], nil
	}
	var names []string
	for _, m := range ms {
		n := m.Annotations[refNameAnnotation]
		if ref != "" && (n == ref || m.Digest.String() == ref || strings.HasSuffix(n, ":"+ref)) {
			return m, nil
		}
		if n == "" {
			n = m.Digest.String()
		}
		names = append(names, n)
	}
	switch {
	case len(ms) == 0:
		return v1.Descriptor{}, errors.New("the OCI layout's index.json lists no manifest")
	case ref == "":
		return v1.Descriptor{}, fmt.Errorf("the OCI layout holds %d manifests (%s): pick one with --ref", len(ms), strings.Join(names, ", "))
	}
	return v1.Descriptor{}, fmt.Errorf("the OCI layout has no manifest named %q (it has %s)", ref, strings.Join(names, ", "))
}

// child opens the image or index desc names in idx.
func child(idx v1.ImageIndex, desc v1.Descriptor) (remote.Taggable, error) {
	switch {
	case desc.MediaType.IsIndex():
		ii, err := idx.ImageIndex(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("read index %s: %w", desc.Digest, err)
		}
		return ii, nil
	case desc.MediaType.IsImage():
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("read manifest %s: %w", desc.Digest, err)
		}
		return img, nil
	}
	return nil, fmt.Errorf("manifest %s is a %s, neither an image nor an index", desc.Digest, desc.MediaType)
}

// check verifies t against desc: its manifest's bytes hash to desc's
// digest and size, and (through validate) every blob below it, layers
// decompressed to their diff IDs, hashes to what its manifest says; an
// index's children are checked the same way.
func check(ctx context.Context, t remote.Taggable, desc v1.Descriptor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := t.RawManifest()
	if err != nil {
		return fmt.Errorf("read manifest %s: %w", desc.Digest, err)
	}
	got, n, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if got != desc.Digest || n != desc.Size {
		return fmt.Errorf("%w: manifest %s (%d bytes) is %s (%d bytes)", ErrDigestMismatch, desc.Digest, desc.Size, got, n)
	}
	switch v := t.(type) {
	case v1.ImageIndex:
		im, err := v.IndexManifest()
		if err != nil {
			return fmt.Errorf("read index %s: %w", desc.Digest, err)
		}
		for _, d := range im.Manifests {
			c, err := child(v, d)
			if err != nil {
				return err
			}
			if err := check(ctx, c, d); err != nil {
				return err
			}
		}
	case v1.Image:
		if err := validate.Image(v); err != nil {
			return fmt.Errorf("%w: image %s: %v", ErrDigestMismatch, desc.Digest, err)
		}
	}
	return nil
}

func openTarball(ctx context.Context, path, ref string) (*Image, error) {
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		return nil, fmt.Errorf("not a docker save tarball (%v): give an OCI layout as a directory (extract an OCI layout tar first)", err)
	}
	var tag *name.Tag
	switch {
	case ref != "":
		t, err := name.NewTag(ref)
		if err != nil {
			return nil, fmt.Errorf("--ref %q: want one of the tarball's tags: %w", ref, err)
		}
		tag = &t
	case len(m) > 1:
		var tags []string
		for _, d := range m {
			tags = append(tags, d.RepoTags...)
		}
		return nil, fmt.Errorf("the tarball holds %d images (%s): pick one with --ref", len(m), strings.Join(tags, ", "))
	}
	img, err := tarball.ImageFromPath(path, tag)
	if err != nil {
		return nil, fmt.Errorf("read tarball: %w", err)
	}
	// docker save names the config by its digest ("<hex>.json", or
	// "blobs/sha256/<hex>" since Docker 25; crane "sha256:<hex>"): it must
	// be that digest.
	cfg, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("read tarball config: %w", err)
	}
	named, matched := 0, false
	for _, d := range m {
		if h := strings.TrimPrefix(strings.TrimSuffix(filepath.Base(d.Config), ".json"), "sha256:"); isHexDigest(h) {
			named++
			matched = matched || h == cfg.Hex
		}
	}
	if named == len(m) && !matched {
		return nil, fmt.Errorf("%w: the config read hashes to %s, which no config file of the tarball is named by", ErrDigestMismatch, cfg)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The manifest is computed from the tarball's content, so checking the
	// image (config against its digest, layers against their diff IDs)
	// checks what the tarball holds.
	if err := validate.Image(img); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDigestMismatch, err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	return &Image{Taggable: img, Digest: d, MediaType: mt, Format: FormatTarball}, nil
}

// isHexDigest reports whether s looks like the hex of a sha256 digest.
func isHexDigest(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}
