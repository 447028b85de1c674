package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/patchloop/patchloop/internal/registry"
)

// Target is one image to scan and the names its report gives it.
type Target struct {
	// Image is the image; its layers are read lazily.
	Image v1.Image
	// Platform is "os/arch[/variant]", from the index or the image config.
	Platform string
	// ArtifactName is the image argument as the user gave it.
	ArtifactName string
	// Reference is the parsed registry reference; empty for OCI layouts.
	Reference string
	// RepoTags and RepoDigests name the image in its registry, as Trivy's
	// report metadata does.
	RepoTags    []string
	RepoDigests []string
}

// Options returns scan options naming the target, on top of base.
func (t Target) Options(base Options) Options {
	base.ArtifactName, base.Reference = t.ArtifactName, t.Reference
	base.RepoTags, base.RepoDigests = t.RepoTags, t.RepoDigests
	return base
}

// Resolve turns an image argument into the images to scan:
//
//   - "oci:DIR" or "oci:DIR:TAG", or a directory holding an oci-layout
//     file: an OCI image layout (TAG picks the manifest whose
//     org.opencontainers.image.ref.name annotation is TAG);
//   - anything else: a registry reference ("host/repo:tag",
//     "host/repo@sha256:…"), read through client.
//
// A multi-platform index gives one target per Linux platform, leaving out
// attestation manifests and unknown platforms (an index without Linux
// platforms gives its other platforms, so that their reports say why they
// were not scanned). With want set, exactly the matching platform is
// returned (the variant is compared only when want has one), and a
// single-platform image must match it.
func Resolve(ctx context.Context, client *registry.Client, arg string, want *v1.Platform) ([]Target, error) {
	if dir, tag, ok := layoutArg(arg); ok {
		return resolveLayout(dir, tag, arg, want)
	}
	return resolveRemote(ctx, client, arg, want)
}

// layoutArg recognises an OCI layout argument.
func layoutArg(arg string) (dir, tag string, ok bool) {
	if s, found := strings.CutPrefix(arg, "oci:"); found {
		if isLayout(s) {
			return s, "", true
		}
		if i := strings.LastIndexByte(s, ':'); i > 0 && i > strings.LastIndexAny(s, `/\`) {
			return s[:i], s[i+1:], true
		}
		return s, "", true
	}
	if isLayout(arg) {
		return arg, "", true
	}
	return "", "", false
}

// isLayout reports whether dir holds an OCI layout.
func isLayout(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "oci-layout"))
	return err == nil && fi.Mode().IsRegular()
}

// refNameAnnotation tags manifests of an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

func resolveLayout(dir, tag, arg string, want *v1.Platform) ([]Target, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: index.json: %w", dir, err)
	}
	descs := im.Manifests
	if tag != "" {
		descs = nil
		for _, d := range im.Manifests {
			if ref := d.Annotations[refNameAnnotation]; ref == tag || strings.HasSuffix(ref, ":"+tag) {
				descs = append(descs, d)
			}
		}
		if len(descs) == 0 {
			return nil, fmt.Errorf("OCI layout %s: no manifest tagged %q", dir, tag)
		}
	}
	if len(descs) == 0 {
		return nil, fmt.Errorf("OCI layout %s: index.json lists no manifest", dir)
	}
	imgs, err := expand(idx, descs, want)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	out := make([]Target, 0, len(imgs))
	for _, pi := range imgs {
		out = append(out, Target{Image: pi.img, Platform: pi.platform, ArtifactName: arg})
	}
	return out, nil
}

func resolveRemote(ctx context.Context, client *registry.Client, arg string, want *v1.Platform) ([]Target, error) {
	ref, err := client.ParseReference(arg)
	if err != nil {
		return nil, err
	}
	desc, err := client.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	base := Target{ArtifactName: arg, Reference: ref.String()}
	repo := repositoryName(ref)
	if t, ok := ref.(name.Tag); ok {
		base.RepoTags = []string{repo + ":" + t.TagStr()}
	}
	base.RepoDigests = []string{repo + "@" + desc.Digest.String()}

	var imgs []platformImage
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("read index %s: %w", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("read index %s: %w", ref, err)
		}
		if imgs, err = expand(idx, im.Manifests, want); err != nil {
			return nil, fmt.Errorf("index %s: %w", ref, err)
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			return nil, fmt.Errorf("read image %s: %w", ref, err)
		}
		pi, err := single(img, want)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		imgs = []platformImage{pi}
	}
	out := make([]Target, 0, len(imgs))
	for _, pi := range imgs {
		t := base
		t.Image, t.Platform = pi.img, pi.platform
		out = append(out, t)
	}
	return out, nil
}

// repositoryName names a repository as Trivy's report does: Docker Hub
// repositories without the registry and "library/".
func repositoryName(ref name.Reference) string {
	repo := ref.Context()
	if repo.RegistryStr() != name.DefaultRegistry {
		return repo.RegistryStr() + "/" + repo.RepositoryStr()
	}
	return strings.TrimPrefix(repo.RepositoryStr(), "library/")
}

// ErrNoPlatform is wrapped by Resolve's error when the image has no
// manifest for the platform asked for.
var ErrNoPlatform = errors.New("platform not found")
