package imagefs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	tarlayer "github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/zstd"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/registry"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

func sha(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func resolveOSRelease(t *testing.T, img v1.Image, opts ...imagefs.Option) (*imagefs.View, error) {
	t.Helper()
	v, err := imagefs.Open(context.Background(), img, opts...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Resolve(context.Background(), imagefs.Request{Files: []string{"etc/os-release"}})
	return v, err
}

func TestBytesAfterTheEndOfArchiveAreChecked(t *testing.T) {
	// The tar walker stops at the end-of-archive marker; what follows is
	// part of the layer's diff_id all the same.
	tarball := it.Tar(t, it.File("etc/os-release", "ID=debian\n"))
	layer := it.RawLayer(append(tarball, strings.Repeat("x", 5000)...))
	digest, _ := layer.Digest()
	img := it.ClaimDiffIDs(t, it.Image(t, layer), []v1.Hash{sha(tarball)})
	imgDigest, _ := img.Digest()
	_, err := resolveOSRelease(t, img)
	var mm *imagefs.DigestMismatchError
	if !errors.Is(err, imagefs.ErrDigestMismatch) || !errors.As(err, &mm) {
		t.Fatalf("err = %v, want a digest mismatch", err)
	}
	want := imagefs.DigestMismatchError{
		Image: imgDigest, Layer: imagefs.Layer{Index: 0, Digest: digest, DiffID: sha(tarball)},
		What: "uncompressed tar", Want: sha(tarball), Got: digest,
	}
	if *mm != want {
		t.Errorf("mismatch %+v\nwant %+v", *mm, want)
	}
}

// lyingLayer names a digest its blob does not have.
type lyingLayer struct {
	v1.Layer
	digest v1.Hash
}

func (l lyingLayer) Digest() (v1.Hash, error) { return l.digest, nil }

func TestWalkLayerChecksDigests(t *testing.T) {
	layer := it.FilesLayer(t, map[string]string{"etc/os-release": "ID=debian\n"})
	if _, err := imagefs.WalkLayer(context.Background(), layer, nil2); err != nil {
		t.Fatalf("genuine layer: %v", err)
	}
	actual, _ := layer.Digest()
	claimed := sha([]byte("another blob"))
	_, err := imagefs.WalkLayer(context.Background(), lyingLayer{Layer: layer, digest: claimed}, nil2)
	var mm *imagefs.DigestMismatchError
	if !errors.As(err, &mm) || mm.Want != claimed || mm.Got != actual || mm.What != "compressed blob" {
		t.Fatalf("err = %v, want a blob digest mismatch", err)
	}
	if !strings.Contains(err.Error(), claimed.String()) || !strings.Contains(err.Error(), actual.String()) {
		t.Errorf("error %q does not name both digests", err)
	}
}

func nil2(imagefs.Entry, io.Reader) error { return nil }

func TestLayerCap(t *testing.T) {
	layer := it.FilesLayer(t, map[string]string{"etc/os-release": "ID=debian\n"})
	many := func(n int) v1.Image {
		ls := make([]v1.Layer, n)
		for i := range ls {
			ls[i] = layer
		}
		return it.Image(t, ls...)
	}
	if ls, err := imagefs.ImageLayers(many(imagefs.MaxLayers)); err != nil || len(ls) != imagefs.MaxLayers {
		t.Fatalf("%d layers: %d, %v", imagefs.MaxLayers, len(ls), err)
	}
	img := many(imagefs.MaxLayers + 1)
	d, _ := img.Digest()
	_, err := imagefs.Open(context.Background(), img)
	if !errors.Is(err, imagefs.ErrTooManyLayers) || !strings.Contains(err.Error(), d.String()+" has 501 layers, more than the 500 supported") {
		t.Fatalf("err = %v", err)
	}
	if _, err := imagefs.ImageLayers(img); !errors.Is(err, imagefs.ErrTooManyLayers) {
		t.Fatalf("ImageLayers: %v", err)
	}
}

func TestSpoolKeepsOnlyVerifiedLayers(t *testing.T) {
	dir := t.TempDir()
	spooled := func() []string {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		return names
	}
	base := it.FilesLayer(t, map[string]string{"etc/os-release": "ID=debian\n", "etc/debian_version": "12.5\n"})
	img, counter := it.Count(it.Image(t, base))
	v, err := resolveOSRelease(t, img, imagefs.WithSpool(dir))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(spooled()); n != 1 {
		t.Fatalf("%d layers spooled, want 1", n)
	}
	res, err := v.Resolve(context.Background(), imagefs.Request{Files: []string{"etc/debian_version"}})
	if err != nil || string(res.Files["etc/debian_version"].Content) != "12.5\n" {
		t.Fatalf("second resolve: %v %+v", err, res)
	}
	if counter.Opened(0) != 1 || v.Opened() != 2 {
		t.Errorf("layer fetched %d times, read %d times; want once from the image, then from the spool", counter.Opened(0), v.Opened())
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if names := spooled(); len(names) != 0 {
		t.Fatalf("left after Close: %v", names)
	}

	// A layer that does not match its diff_id is not kept.
	other, _ := it.FilesLayer(t, map[string]string{"etc/os-release": "ID=alpine\n"}).DiffID()
	bad := it.ClaimDiffIDs(t, it.Image(t, base), []v1.Hash{other})
	if _, err := resolveOSRelease(t, bad, imagefs.WithSpool(dir)); !errors.Is(err, imagefs.ErrDigestMismatch) {
		t.Fatalf("err = %v, want a digest mismatch", err)
	}
	if names := spooled(); len(names) != 0 {
		t.Fatalf("kept an unverified layer: %v", names)
	}
}

func TestZstdLayersAreChecked(t *testing.T) {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tarball := it.Tar(t, it.File("etc/os-release", "ID=debian\n"), it.File("opt/big", strings.Repeat("data ", 100000)))
	if _, err := zw.Write(tarball); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarlayer.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resolveOSRelease(t, it.Image(t, layer)); err != nil {
		t.Fatalf("genuine zstd layer: %v", err)
	}
	other := sha([]byte("another tar"))
	_, err = resolveOSRelease(t, it.ClaimDiffIDs(t, it.Image(t, layer), []v1.Hash{other}))
	var mm *imagefs.DigestMismatchError
	if !errors.As(err, &mm) || mm.Want != other || mm.Got != sha(tarball) {
		t.Fatalf("err = %v, want a diff_id mismatch", err)
	}
}

func TestOnlyRegistryLayersRelyOnTheClientsCheck(t *testing.T) {
	layer := it.FilesLayer(t, map[string]string{"etc/os-release": "ID=debian\n"})
	digest, _ := layer.Digest()
	img := it.Image(t, layer)
	ref := registrytest.Start(t) + "/app/check:1"
	registrytest.Push(t, ref, img)
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	remoteImg, err := registry.New().Image(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := remoteImg.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if !imagefs.ClientChecked(ls[0], digest) {
		t.Errorf("a registry layer (%T) is hashed twice", ls[0])
	}
	if imagefs.ClientChecked(ls[0], sha([]byte("another blob"))) {
		t.Errorf("a registry layer is trusted for a digest it was not fetched by")
	}

	// Layers from an OCI layout, or built in memory, are hashed by imagefs.
	p, err := layout.Write(t.TempDir(), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	imgDigest, _ := img.Digest()
	layoutImg, err := p.Image(imgDigest)
	if err != nil {
		t.Fatal(err)
	}
	lls, err := layoutImg.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []v1.Layer{lls[0], layer} {
		if imagefs.ClientChecked(l, digest) {
			t.Errorf("a %T relies on a check it does not make", l)
		}
	}
}
