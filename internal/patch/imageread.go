package patch

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// OpenImage returns an image's config and a view of it for a patcher's
// two passes (its database and configuration first, the paths of the
// chosen packages second): each layer the view reads is kept, verified
// and uncompressed, in workDir until View.Close.
func OpenImage(ctx context.Context, img v1.Image, workDir string) (*imagefs.View, *v1.ConfigFile, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("reading image config: %w", err)
	}
	view, err := imagefs.Open(ctx, img, imagefs.WithSpool(workDir))
	if err != nil {
		return nil, nil, err
	}
	return view, cfg, nil
}

// RegularFiles returns the content of the regular files among an
// imagefs answer's nodes, by path; symlinks followed to a regular file
// count, everything else is left out.
func RegularFiles(nodes map[string]imagefs.Node) map[string][]byte {
	out := make(map[string][]byte, len(nodes))
	for p, n := range nodes {
		if n.Kind == imagefs.KindRegular {
			out[p] = n.Content
		}
	}
	return out
}
