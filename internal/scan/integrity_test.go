package scan_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// cleanStatus is debianStatus with every installed version raised past the
// database's fixes, keeping its length: a scan of it finds nothing.
var cleanStatus = strings.NewReplacer(
	"2.38.1-5+b1", "2.38.1-9+b1", "(2.38.1-5)", "(2.38.1-9)", "(1:4.13+dfsg1-1)", "(1:4.99+dfsg1-1)",
	"2.36-9+deb12u3", "2.36-9+deb12u9",
	"3.0.11-1~deb12u2", "3.0.99-1~deb12u2", "4.13+dfsg1-1+b1", "4.99+dfsg1-1+b1",
).Replace(debianStatus)

// debianLayer is the layer of a one-layer Debian 12.5 image holding
// status, stored without compression so that two of them with statuses of
// the same length have blobs of the same length.
func debianLayer(t testing.TB, status string) v1.Layer {
	return imagetest.StoredGzipLayer(t,
		imagetest.File("etc/os-release", debianOSRelease),
		imagetest.File("etc/debian_version", "12.5\n"),
		imagetest.File("var/lib/dpkg/status", status),
	)
}

// swapBlob serves the blob of with in place of the blob named want, as a
// compromised registry or proxy would; everything else is passed on.
func swapBlob(want v1.Hash, with []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+want.String()) {
				w.Header().Set("Content-Length", strconv.Itoa(len(with)))
				w.Header().Set("Content-Type", "application/octet-stream")
				_, _ = w.Write(with)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// blob returns a layer's compressed bytes and digest.
func blob(t testing.TB, l v1.Layer) ([]byte, v1.Hash) {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return b, d
}

// scanRef resolves and scans ref as `patchloop scan` does.
func scanRef(t *testing.T, ref string, opts scan.Options) (*scan.Report, error) {
	t.Helper()
	ctx := context.Background()
	targets, err := scan.Resolve(ctx, registry.New(), ref, nil)
	if err != nil {
		t.Fatalf("resolve %s: %v", ref, err)
	}
	opts.Now = clock
	return scan.Scan(ctx, targets[0].Image, openDB(t, database()), targets[0].Options(opts))
}

// wantMismatch checks that err is a digest mismatch naming the image, the
// layer and both digests.
func wantMismatch(t *testing.T, err error, artifact string, image, layer, want, got v1.Hash) {
	t.Helper()
	var mm *imagefs.DigestMismatchError
	if !errors.Is(err, imagefs.ErrDigestMismatch) || !errors.As(err, &mm) {
		t.Fatalf("scan error %v, want a digest mismatch", err)
	}
	if mm.Image != image || mm.Layer.Digest != layer || mm.Want != want || mm.Got != got {
		t.Errorf("mismatch %+v, want image %s layer %s want %s got %s", mm, image, layer, want, got)
	}
	for _, s := range []string{artifact, image.String(), layer.String(), want.String(), got.String()} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

func TestScanRefusesSwappedLayerBlob(t *testing.T) {
	genuine := debianLayer(t, debianStatus)
	other := debianLayer(t, cleanStatus)
	gBlob, gDigest := blob(t, genuine)
	oBlob, oDigest := blob(t, other)
	if len(gBlob) != len(oBlob) || gDigest == oDigest {
		t.Fatalf("blobs of %d and %d bytes, digests %s %s", len(gBlob), len(oBlob), gDigest, oDigest)
	}
	host := registrytest.StartWith(t, swapBlob(gDigest, oBlob))
	ref := host + "/app/vuln:1.0"
	img := imagetest.Image(t, genuine)
	imgDigest := registrytest.Push(t, ref, img)

	// Pinned by digest, the manifest and config are genuine; the layer is not.
	for _, arg := range []string{ref, host + "/app/vuln@" + imgDigest.String()} {
		rep, err := scanRef(t, arg, scan.Options{})
		if rep != nil {
			t.Fatalf("%s: scan of a swapped blob gave a report: %v", arg, lines(rep))
		}
		wantMismatch(t, err, arg, imgDigest, gDigest, gDigest, oDigest)
	}
}

func TestScanRefusesLayerNotMatchingDiffID(t *testing.T) {
	// The blob matches the manifest's digest, but it decompresses to a tar
	// whose digest is not the config's diff_id.
	host := registrytest.Start(t)
	layer := debianLayer(t, cleanStatus)
	claimed, err := debianLayer(t, debianStatus).DiffID()
	if err != nil {
		t.Fatal(err)
	}
	actual, _ := layer.DiffID()
	digest, _ := layer.Digest()
	img := imagetest.ClaimDiffIDs(t, imagetest.Image(t, layer), []v1.Hash{claimed})
	ref := host + "/app/claims:1.0"
	imgDigest := registrytest.Push(t, ref, img)
	_, err = scanRef(t, ref, scan.Options{})
	wantMismatch(t, err, ref, imgDigest, digest, claimed, actual)
	if !strings.Contains(err.Error(), "diff_id") {
		t.Errorf("error %q does not say diff_id", err)
	}
}

func TestCacheCannotBePoisonedAcrossImages(t *testing.T) {
	host := registrytest.Start(t)
	cacheDir := t.TempDir()
	cache, err := ospkg.NewDirCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	genuineLayer := debianLayer(t, debianStatus)
	genuineDiffID, _ := genuineLayer.DiffID()
	genuine := host + "/app/vuln:1.0"
	registrytest.Push(t, genuine, imagetest.Image(t, genuineLayer))

	// The attacker's image holds clean content and claims the genuine
	// image's diff_ids, so its cache key used to be the genuine image's.
	attacker := host + "/evil/clean:1.0"
	registrytest.Push(t, attacker, imagetest.ClaimDiffIDs(t, imagetest.Image(t, debianLayer(t, cleanStatus)), []v1.Hash{genuineDiffID}))
	if _, err := scanRef(t, attacker, scan.Options{Cache: cache}); !errors.Is(err, imagefs.ErrDigestMismatch) {
		t.Fatalf("attacker's image: %v, want a digest mismatch", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(cacheDir, "*")); len(entries) != 0 {
		t.Fatalf("the attacker's scan cached %v", entries)
	}
	// Read whole, the attacker's content is clean indeed.
	clean, err := scan.Scan(context.Background(), imagetest.Image(t, debianLayer(t, cleanStatus)), openDB(t, database()), scan.Options{Now: clock})
	if err != nil || len(clean.Vulnerabilities()) != 0 {
		t.Fatalf("clean content: %v, findings %v", err, lines(clean))
	}

	rep, err := scanRef(t, genuine, scan.Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stats.FromCache || len(rep.Vulnerabilities()) != 5 {
		t.Fatalf("genuine image: from cache %v, findings %v", rep.Stats.FromCache, lines(rep))
	}
	// The rescan comes from the cache and still has the findings.
	rep, err = scanRef(t, genuine, scan.Options{Cache: cache})
	if err != nil || !rep.Stats.FromCache || len(rep.Vulnerabilities()) != 5 {
		t.Fatalf("rescan: %v, from cache %v, findings %v", err, rep.Stats.FromCache, lines(rep))
	}
}

func TestScanRefusesTamperedOCILayout(t *testing.T) {
	layer := debianLayer(t, debianStatus)
	img := imagetest.Image(t, layer)
	imgDigest, _ := img.Digest()
	cfgDigest, _ := img.ConfigName()
	rawCfg, _ := img.RawConfigFile()
	gBlob, gDigest := blob(t, layer)
	oBlob, oDigest := blob(t, debianLayer(t, cleanStatus))

	// newLayout writes img into a fresh layout and returns its directory.
	newLayout := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "layout")
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	overwrite := func(t *testing.T, dir string, h v1.Hash, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, "blobs", h.Algorithm, h.Hex), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("layer", func(t *testing.T) {
		dir := newLayout(t)
		if _, err := scanRef(t, dir, scan.Options{}); err != nil {
			t.Fatalf("untouched layout: %v", err)
		}
		overwrite(t, dir, gDigest, oBlob)
		_, err := scanRef(t, dir, scan.Options{})
		wantMismatch(t, err, dir, imgDigest, gDigest, gDigest, oDigest)
		if len(gBlob) != len(oBlob) {
			t.Fatalf("blobs of %d and %d bytes", len(gBlob), len(oBlob))
		}
	})
	t.Run("config", func(t *testing.T) {
		dir := newLayout(t)
		tampered := bytes.Replace(rawCfg, []byte(`"amd64"`), []byte(`"arm64"`), 1)
		overwrite(t, dir, cfgDigest, tampered)
		_, err := scanRef(t, dir, scan.Options{})
		if !errors.Is(err, imagefs.ErrDigestMismatch) || !strings.Contains(err.Error(), cfgDigest.String()) {
			t.Fatalf("tampered config: %v", err)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		dir := newLayout(t)
		raw, _ := img.RawManifest()
		overwrite(t, dir, imgDigest, bytes.Replace(raw, []byte(gDigest.Hex), []byte(oDigest.Hex), 1))
		_, err := scan.Resolve(context.Background(), registry.New(), dir, nil)
		if !errors.Is(err, imagefs.ErrDigestMismatch) || !strings.Contains(err.Error(), imgDigest.String()) {
			t.Fatalf("tampered manifest: %v", err)
		}
	})
}

func TestScanRefusesTooManyLayers(t *testing.T) {
	layer := imagetest.FilesLayer(t, map[string]string{"etc/os-release": debianOSRelease})
	layers := make([]v1.Layer, imagefs.MaxLayers+1)
	for i := range layers {
		layers[i] = layer
	}
	img := imagetest.Image(t, layers...)
	d, _ := img.Digest()
	_, err := scan.Scan(context.Background(), img, openDB(t, database()), scan.Options{ArtifactName: "app/deep:1", Now: clock})
	if !errors.Is(err, imagefs.ErrTooManyLayers) {
		t.Fatalf("scan of %d layers: %v", len(layers), err)
	}
	for _, s := range []string{"app/deep:1", d.String(), "501 layers", "500"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

// sha is the sha256 digest of b.
func sha(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// serveAs serves body in place of the blob named want: with a
// Content-Length of length (none when negative, so chunked), and only the
// first cut bytes of body when cut is not negative, as a connection dropped
// mid-blob.
func serveAs(want v1.Hash, body []byte, length, cut int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+want.String()) {
				next.ServeHTTP(w, r)
				return
			}
			if length >= 0 {
				w.Header().Set("Content-Length", strconv.Itoa(length))
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			if cut >= 0 {
				body = body[:cut]
			}
			_, _ = w.Write(body)
		})
	}
}

func TestScanRefusesEveryServedBlobButTheNamedOne(t *testing.T) {
	// A gzip layer, inflated by imagefs; the registry client checks the
	// blob's digest and imagefs names the digest of what was served.
	// Hex of random bytes: a blob of several read-ahead chunks.
	noise := func(seed byte, n int) string {
		b := make([]byte, n)
		_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
		return hex.EncodeToString(b)
	}
	genuine := imagetest.FilesLayer(t, map[string]string{
		"etc/os-release": debianOSRelease, "etc/debian_version": "12.5\n", "var/lib/dpkg/status": debianStatus,
		"usr/share/doc/big": noise(1, 600<<10),
	})
	gBlob, gDigest := blob(t, genuine)
	oBlob, _ := blob(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release": debianOSRelease, "etc/debian_version": "12.5\n", "var/lib/dpkg/status": cleanStatus,
		"usr/share/doc/big": noise(2, 700<<10),
	}))
	if len(oBlob) <= len(gBlob) {
		t.Fatalf("other blob %d bytes, want more than %d", len(oBlob), len(gBlob))
	}
	flipped := bytes.Clone(gBlob)
	flipped[len(flipped)/2] ^= 0x40
	n := len(gBlob)
	for _, c := range []struct {
		name        string
		body        []byte
		length, cut int
		mismatch    bool // a digest mismatch naming the digest of body[:n]
	}{
		{"one bit flipped", flipped, n, -1, true},
		{"one bit flipped, chunked", flipped, -1, -1, true},
		{"another blob cut to length", oBlob, n, n, true},
		{"longer blob, chunked", oBlob, -1, -1, true},
		{"longer blob, its length", oBlob, len(oBlob), -1, false},
		{"shorter blob", gBlob[:n-100], n - 100, -1, false},
		{"connection dropped", gBlob, n, n / 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			host := registrytest.StartWith(t, serveAs(gDigest, c.body, c.length, c.cut))
			ref := host + "/app/vuln:1.0"
			imgDigest := registrytest.Push(t, ref, imagetest.Image(t, genuine))
			rep, err := scanRef(t, ref, scan.Options{})
			if err == nil || rep != nil {
				t.Fatalf("scan gave report %v, error %v; want an error", rep != nil, err)
			}
			if c.mismatch {
				wantMismatch(t, err, ref, imgDigest, gDigest, gDigest, sha(c.body[:n]))
			}
		})
	}
}
