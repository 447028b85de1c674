package imagetest

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Image returns a linux/amd64 image made of the layers, bottom layer first.
func Image(tb testing.TB, layers ...v1.Layer) v1.Image {
	tb.Helper()
	return PlatformImage(tb, "linux", "amd64", layers...)
}

// WindowsImage returns a windows/amd64 image made of the layers.
func WindowsImage(tb testing.TB, layers ...v1.Layer) v1.Image {
	tb.Helper()
	return PlatformImage(tb, "windows", "amd64", layers...)
}

// PlatformImage returns an image for the given OS and architecture made of
// the layers, bottom layer first.
func PlatformImage(tb testing.TB, os, arch string, layers ...v1.Layer) v1.Image {
	tb.Helper()
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		OS:           os,
		Architecture: arch,
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		tb.Fatalf("imagetest: config: %v", err)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		tb.Fatalf("imagetest: append layers: %v", err)
	}
	return img
}

// ClaimDiffIDs returns img with a config that names diffIDs as its layers'
// diff_ids, whatever the layers hold: an image built to pass for another
// (its manifest still names its own blobs).
func ClaimDiffIDs(tb testing.TB, img v1.Image, diffIDs []v1.Hash) v1.Image {
	tb.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		tb.Fatalf("imagetest: config: %v", err)
	}
	cfg = cfg.DeepCopy()
	cfg.RootFS.DiffIDs = diffIDs
	out, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		tb.Fatalf("imagetest: config: %v", err)
	}
	return out
}
