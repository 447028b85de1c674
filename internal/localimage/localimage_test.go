package localimage_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/localimage"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

func testImage(t *testing.T, body string) v1.Image {
	t.Helper()
	return imagetest.Image(t,
		imagetest.FilesLayer(t, map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n"}),
		imagetest.FilesLayer(t, map[string]string{"app/data": body}))
}

// writeLayout writes imgs into a new OCI layout, each entry named by its
// ref.name annotation.
func writeLayout(t *testing.T, imgs map[string]v1.Image) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for ref, img := range imgs {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func digest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// pushAndResolve pushes img to host/repo:tag and returns the digest the
// registry serves under the tag.
func pushAndResolve(t *testing.T, img *localimage.Image, dest string) v1.Hash {
	t.Helper()
	c := registry.New()
	ref, err := name.ParseReference(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Push(t.Context(), ref, img.Taggable); err != nil {
		t.Fatal(err)
	}
	d, err := c.Resolve(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest
}

func TestLayoutAndTarball(t *testing.T) {
	host := registrytest.Start(t)
	img := testImage(t, "one")
	want := digest(t, img)

	dir := writeLayout(t, map[string]v1.Image{"bookworm": img})
	got, err := localimage.Open(t.Context(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != want || got.Format != localimage.FormatLayout || !got.MediaType.IsImage() {
		t.Fatalf("layout: %+v, want %s", got, want)
	}
	if pushed := pushAndResolve(t, got, host+"/app:layout"); pushed != want {
		t.Errorf("registry serves %s, want %s", pushed, want)
	}

	// A multi-platform index, as crane pull --format oci writes one.
	arm := imagetest.PlatformImage(t, "linux", "arm64", imagetest.FilesLayer(t, map[string]string{"a": "arm"}))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	idxDir := t.TempDir()
	p, err := layout.Write(idxDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	got, err = localimage.Open(t.Context(), idxDir, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != digest(t, idx) || !got.MediaType.IsIndex() {
		t.Fatalf("index: %+v", got)
	}
	if pushed := pushAndResolve(t, got, host+"/app:index"); pushed != got.Digest {
		t.Errorf("registry serves %s, want %s", pushed, got.Digest)
	}

	// docker save's format.
	tarPath := filepath.Join(t.TempDir(), "image.tar")
	tag, _ := name.NewTag("example.com/app:1")
	if err := tarball.WriteToFile(tarPath, tag, img); err != nil {
		t.Fatal(err)
	}
	got, err = localimage.Open(t.Context(), tarPath, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigName()
	gotCfg, _ := got.Taggable.(v1.Image).ConfigName()
	if got.Format != localimage.FormatTarball || gotCfg != cfg {
		t.Fatalf("tarball: %+v config %s, want %s", got, gotCfg, cfg)
	}
	if pushed := pushAndResolve(t, got, host+"/app:tarball"); pushed != got.Digest {
		t.Errorf("registry serves %s, want %s", pushed, got.Digest)
	}
}

func TestPick(t *testing.T) {
	a, b := testImage(t, "a"), testImage(t, "b")
	dir := writeLayout(t, map[string]v1.Image{"a": a, "b": b})
	if _, err := localimage.Open(t.Context(), dir, ""); err == nil || !strings.Contains(err.Error(), "pick one with --ref") {
		t.Fatalf("got %v", err)
	}
	got, err := localimage.Open(t.Context(), dir, "b")
	if err != nil || got.Digest != digest(t, b) {
		t.Fatalf("ref b: %+v %v", got, err)
	}
	got, err = localimage.Open(t.Context(), dir, digest(t, a).String())
	if err != nil || got.Digest != digest(t, a) {
		t.Fatalf("ref by digest: %+v %v", got, err)
	}
	if _, err := localimage.Open(t.Context(), dir, "c"); err == nil || !strings.Contains(err.Error(), `no manifest named "c"`) {
		t.Fatalf("got %v", err)
	}
}

// TestTampered changes one blob of a layout at a time: each change is
// caught before anything could be pushed.
func TestTampered(t *testing.T) {
	img := testImage(t, "payload")
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string]v1.Hash{"layer": m.Layers[1].Digest, "config": m.Config.Digest, "manifest": digest(t, img)}
	for what, h := range blobs {
		t.Run(what, func(t *testing.T) {
			dir := writeLayout(t, map[string]v1.Image{"x": img})
			path := filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 1
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = localimage.Open(t.Context(), dir, "")
			if !errors.Is(err, localimage.ErrDigestMismatch) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("got %v, want a digest mismatch naming %s", err, dir)
			}
		})
	}
}

func TestNotAnImage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string]string{
		file:                                 "not a docker save tarball",
		t.TempDir():                          "not an OCI image layout",
		filepath.Join(t.TempDir(), "absent"): "want an OCI layout directory",
	} {
		if _, err := localimage.Open(t.Context(), src, ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", src, err, want)
		}
	}
}

// TestTamperedTarball changes a docker save tarball's layer (one byte) or
// its config (valid JSON, another architecture): the check catches both.
func TestTamperedTarball(t *testing.T) {
	img := testImage(t, strings.Repeat("payload ", 1000))
	for what, tamper := range map[string]func(name string, body []byte) bool{
		"layer": func(name string, body []byte) bool {
			if !strings.HasSuffix(name, ".tar.gz") || len(body) < 100 {
				return false
			}
			body[len(body)/2] ^= 1
			return true
		},
		"config": func(name string, body []byte) bool {
			i := bytes.Index(body, []byte(`"amd64"`))
			if !strings.HasPrefix(name, "sha256:") || i < 0 {
				return false
			}
			copy(body[i:], `"arm64"`)
			return true
		},
	} {
		t.Run(what, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "image.tar")
			tag, _ := name.NewTag("example.com/app:1")
			if err := tarball.WriteToFile(path, tag, img); err != nil {
				t.Fatal(err)
			}
			rewriteTar(t, path, tamper)
			_, err := localimage.Open(t.Context(), path, "")
			if !errors.Is(err, localimage.ErrDigestMismatch) {
				t.Fatalf("got %v, want a digest mismatch", err)
			}
		})
	}
}

// rewriteTar rewrites the tar at path, letting tamper change each entry's
// body in place; it fails the test unless tamper changed one.
func rewriteTar(t *testing.T, path string, tamper func(name string, body []byte) bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(data))
	changed := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if !changed && tamper(hdr.Name, body) {
			changed = true
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Fatal("nothing was tampered with")
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
