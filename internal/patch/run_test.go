package patch_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/tags"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func hello(version, arch string) aptrepo.Package {
	return aptrepo.Package{Name: "hello", Version: version, Arch: arch, Files: []deb.File{
		{Path: "usr/bin/hello", Data: []byte("hello " + version + " " + arch), Mode: 0o755},
	}}
}

// fixture is a repository, a database and a registry.
type fixture struct {
	repo *aptrepo.Repo
	db   *vulndb.DB
	host string
	// requests records the registry requests, "METHOD path".
	mu       sync.Mutex
	requests []string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{}
	f.repo = aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Architectures: []string{"amd64", "arm64"}, Packages: []aptrepo.Package{hello("1.0-1", "amd64"), hello("1.0-1", "arm64")}},
		{Name: "bookworm-security", Architectures: []string{"amd64", "arm64"}, Packages: []aptrepo.Package{hello("1.0-2", "amd64"), hello("1.0-2", "arm64")}},
	}})
	f.db = patchtest.Database(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"})
	f.host = registrytest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.requests = append(f.requests, r.Method+" "+r.URL.Path)
			f.mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})
	return f
}

// image returns a Debian image with hello installed for arch.
func (f *fixture) image(t *testing.T, arch string, version string) v1.Image {
	return patchtest.Image(t, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Arch:        arch,
		Packages:    []aptrepo.Package{hello(version, arch)},
		SourcesList: "deb " + f.repo.URL + " bookworm main\ndeb " + f.repo.URL + " bookworm-security main\n",
		Keyring:     f.repo.Keyring,
	})
}

// options returns Run options scanning with the fixture's database.
func (f *fixture) options(t *testing.T, conv tags.Convention) patch.Options {
	p, err := apt.New(apt.Options{CacheDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return patch.Options{
		Client:     registry.New(),
		Patchers:   patch.Patchers{ospkg.Debian: p},
		Scan:       f.scanner(),
		Convention: conv,
		Now:        func() time.Time { return now },
		Logger:     quiet,
	}
}

func (f *fixture) scanner() patch.Scanner {
	return func(ctx context.Context, img v1.Image, _ string) (*scan.Report, error) {
		return scan.Scan(ctx, img, f.db, scan.Options{Logger: quiet})
	}
}

// remaining returns the fixable findings of a pushed image.
func (f *fixture) remaining(t *testing.T, img v1.Image) []patch.Finding {
	t.Helper()
	rep, err := scan.Scan(context.Background(), img, f.db, scan.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return patch.FindingsFromReport(rep)
}

func pull(t *testing.T, ref string) *remote.Descriptor {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Get(r)
	if err != nil {
		t.Fatalf("get %s: %v", ref, err)
	}
	return d
}

func TestRunSingleImageIncremental(t *testing.T) {
	f := newFixture(t)
	ref := f.host + "/app:1.0"
	base := registrytest.Push(t, ref, f.image(t, "amd64", "1.0-1"))
	registrytest.PushTags(t, f.host, "app", "1.0-3")
	f.requests = nil

	res, err := patch.Run(context.Background(), ref, f.options(t, tags.Incremental))
	if err != nil {
		t.Fatal(err)
	}
	if res.Tag != "1.0-4" || res.Reference != f.host+"/app:1.0-4" || res.Digest == "" {
		t.Fatalf("result = %+v", res)
	}
	if len(res.Updates) != 1 || res.Updates[0].From != "1.0-1" || res.Updates[0].To != "1.0-2" || !slices.Equal(res.Fixed, []string{"CVE-2024-0001"}) {
		t.Fatalf("updates = %+v, fixed = %v", res.Updates, res.Fixed)
	}
	d := pull(t, res.Reference)
	if d.Digest.String() != res.Digest {
		t.Errorf("pushed digest %s, result says %s", d.Digest, res.Digest)
	}
	img, err := d.Image()
	if err != nil {
		t.Fatal(err)
	}
	if left := f.remaining(t, img); len(left) != 0 {
		t.Errorf("findings left: %+v", left)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.Labels[patch.AnnotationBaseDigest] != base.String() || cfg.Config.Labels[patch.AnnotationBaseName] != ref || cfg.Config.Labels[patch.LabelPatchedBy] != "patchloop" {
		t.Errorf("labels = %v", cfg.Config.Labels)
	}
	last := cfg.History[len(cfg.History)-1]
	if !strings.Contains(last.CreatedBy, "hello 1.0-1 -> 1.0-2") || !strings.Contains(last.CreatedBy, "CVE-2024-0001") {
		t.Errorf("history = %+v", last)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType == types.OCIManifestSchema1 && m.Annotations[patch.AnnotationBaseDigest] != base.String() {
		t.Errorf("annotations = %v", m.Annotations)
	}
	// The tag is written last: after every blob and the config.
	f.mu.Lock()
	reqs := slices.Clone(f.requests)
	f.mu.Unlock()
	tagPut := slices.Index(reqs, "PUT /v2/app/manifests/1.0-4")
	if tagPut < 0 {
		t.Fatalf("no manifest PUT for the tag in %v", reqs)
	}
	for _, r := range reqs[tagPut+1:] {
		if strings.HasPrefix(r, "PUT ") || strings.HasPrefix(r, "PATCH ") || strings.HasPrefix(r, "POST ") {
			t.Errorf("%s after the tag was written", r)
		}
	}

	t.Run("again", func(t *testing.T) {
		res, err := patch.Run(context.Background(), res.Reference, f.options(t, tags.Incremental))
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed() || res.Tag != "" {
			t.Fatalf("patching the patched image changed it: %+v", res)
		}
	})
}

func TestRunFloatingAndOverride(t *testing.T) {
	f := newFixture(t)
	ref := f.host + "/app:1.0"
	registrytest.Push(t, ref, f.image(t, "amd64", "1.0-1"))
	for range 2 {
		res, err := patch.Run(context.Background(), ref, f.options(t, tags.Floating))
		if err != nil {
			t.Fatal(err)
		}
		if res.Tag != "1.0-patched" {
			t.Fatalf("tag = %q", res.Tag)
		}
	}
	opts := f.options(t, tags.Incremental)
	opts.Tag = "custom"
	res, err := patch.Run(context.Background(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reference != f.host+"/app:custom" {
		t.Fatalf("reference = %q", res.Reference)
	}
	pull(t, res.Reference)
}

func TestRunNothingToFix(t *testing.T) {
	f := newFixture(t)
	ref := f.host + "/app:2.0"
	registrytest.Push(t, ref, f.image(t, "amd64", "1.0-2"))
	res, err := patch.Run(context.Background(), ref, f.options(t, tags.Incremental))
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() || res.Tag != "" || res.Digest != "" {
		t.Fatalf("result = %+v", res)
	}
	all, err := registry.New().Tags(context.Background(), mustRef(t, ref).Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, []string{"2.0"}) {
		t.Errorf("tags = %v", all)
	}
}

func TestRunMultiPlatformIndex(t *testing.T) {
	f := newFixture(t)
	win := imagetest.WindowsImage(t, imagetest.FilesLayer(t, map[string]string{"Files/Windows/System32/config/SOFTWARE": "x"}))
	noFix := f.image(t, "arm64", "1.0-2") // already fixed
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: f.image(t, "amd64", "1.0-1"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: noFix, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: win, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64"}}},
	)
	ref := f.host + "/multi:1.0"
	r := mustRef(t, ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	orig, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	res, err := patch.Run(context.Background(), ref, f.options(t, tags.Incremental))
	if err != nil {
		t.Fatal(err)
	}
	if res.Tag != "1.0-1" || len(res.Platforms) != 3 {
		t.Fatalf("result = %+v", res)
	}
	d := pull(t, res.Reference)
	if !d.MediaType.IsIndex() {
		t.Fatalf("pushed %s, want an index", d.MediaType)
	}
	newIdx, err := d.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := newIdx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 3 {
		t.Fatalf("manifests = %+v", im.Manifests)
	}
	if im.Manifests[0].Digest == orig.Manifests[0].Digest {
		t.Error("linux/amd64 was not replaced")
	}
	if im.Manifests[1].Digest != orig.Manifests[1].Digest || im.Manifests[2].Digest != orig.Manifests[2].Digest {
		t.Error("unpatched platforms lost their original descriptors")
	}
	if im.Manifests[0].Platform == nil || im.Manifests[0].Platform.Architecture != "amd64" {
		t.Errorf("platform of the patched entry = %+v", im.Manifests[0].Platform)
	}
	if im.Annotations[patch.AnnotationBaseName] != ref {
		t.Errorf("index annotations = %v", im.Annotations)
	}
	img, err := newIdx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if left := f.remaining(t, img); len(left) != 0 {
		t.Errorf("findings left on linux/amd64: %+v", left)
	}
	if res.Platforms[2].Skipped == "" {
		t.Errorf("windows platform = %+v, want skipped", res.Platforms[2])
	}
}

func TestRunArm64Platform(t *testing.T) {
	f := newFixture(t)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: f.image(t, "amd64", "1.0-1"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: f.image(t, "arm64", "1.0-1"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	ref := f.host + "/multi:2.0"
	if err := remote.WriteIndex(mustRef(t, ref), idx); err != nil {
		t.Fatal(err)
	}
	res, err := patch.Run(context.Background(), ref, f.options(t, tags.Incremental))
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range res.Platforms {
		if pr.Digest == "" {
			t.Errorf("%s not patched: %+v", pr.Platform, pr)
		}
	}
	newIdx, err := pull(t, res.Reference).ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, _ := newIdx.IndexManifest()
	for _, m := range im.Manifests {
		img, err := newIdx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if left := f.remaining(t, img); len(left) != 0 {
			t.Errorf("%s: findings left: %+v", m.Platform.Architecture, left)
		}
	}
}

func TestOpenVEX(t *testing.T) {
	f := newFixture(t)
	ref := f.host + "/app:1.0"
	registrytest.Push(t, ref, f.image(t, "amd64", "1.0-1"))
	res, err := patch.Run(context.Background(), ref, f.options(t, tags.Incremental))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := patch.OpenVEX(res, now)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	// The fields OpenVEX v0.2.0 requires, by their JSON names.
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"@context", "@id", "author", "timestamp", "version", "statements"} {
		if _, ok := m[k]; !ok {
			t.Errorf("document lacks %q: %s", k, raw)
		}
	}
	if m["@context"] != "https://openvex.dev/ns/v0.2.0" || m["timestamp"] != "2025-06-01T12:00:00Z" {
		t.Errorf("document = %s", raw)
	}
	sts := m["statements"].([]any)
	if len(sts) != 1 {
		t.Fatalf("statements = %v", sts)
	}
	st := sts[0].(map[string]any)
	if st["status"] != "fixed" || st["vulnerability"].(map[string]any)["name"] != "CVE-2024-0001" {
		t.Errorf("statement = %v", st)
	}
	prod := st["products"].([]any)[0].(map[string]any)
	wantID := "pkg:oci/app@" + strings.ReplaceAll(res.Digest, ":", "%3A") + "?repository_url=" + strings.ReplaceAll(f.host, ":", "%3A") + "%2Fapp&tag=1.0-1"
	if prod["@id"] != wantID {
		t.Errorf("product @id = %v, want %v", prod["@id"], wantID)
	}
	sub := prod["subcomponents"].([]any)[0].(map[string]any)
	if sub["@id"] != "pkg:deb/debian/hello@1.0-2?arch=amd64" {
		t.Errorf("subcomponent = %v", sub)
	}
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// An image without a patchable OS is an error naming the image and why,
// not "nothing to fix"; nothing is pushed.
func TestRunImageWithoutOS(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct {
		img  v1.Image
		want string
	}{
		"no os":   {imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{"app/server": "binary"})), "no OS release file found"},
		"empty":   {imagetest.Image(t), "no OS release file found"},
		"windows": {imagetest.WindowsImage(t, imagetest.FilesLayer(t, map[string]string{"Files/Windows/System32/config/SOFTWARE": "x"})), "windows images are not supported"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ref := f.host + "/" + strings.ToLower(strings.ReplaceAll(name, " ", "")) + ":1.0"
			registrytest.Push(t, ref, tc.img)
			res, err := patch.Run(context.Background(), ref, f.options(t, tags.Incremental))
			if !errors.Is(err, patch.ErrUnsupported) || res != nil {
				t.Fatalf("result %+v, err = %v; want ErrUnsupported", res, err)
			}
			for _, w := range []string{"image " + ref + " (", "the image's OS is not patchable: " + tc.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
			all, err := registry.New().Tags(context.Background(), mustRef(t, ref).Context())
			if err != nil || !slices.Equal(all, []string{"1.0"}) {
				t.Errorf("tags = %v, %v", all, err)
			}
		})
	}
	t.Run("report from elsewhere", func(t *testing.T) {
		ref := f.host + "/fromreport:1.0"
		registrytest.Push(t, ref, cases["no os"].img)
		opts := f.options(t, tags.Incremental)
		opts.Scan, opts.Report = nil, &scan.Report{ArtifactName: ref}
		_, err := patch.Run(context.Background(), ref, opts)
		if !errors.Is(err, patch.ErrUnsupported) || !strings.Contains(err.Error(), "no OS release file found") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("index without a patchable platform", func(t *testing.T) {
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
			mutate.IndexAddendum{Add: cases["no os"].img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
			mutate.IndexAddendum{Add: cases["windows"].img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64"}}},
		)
		ref := f.host + "/noos-multi:1.0"
		if err := remote.WriteIndex(mustRef(t, ref), idx); err != nil {
			t.Fatal(err)
		}
		_, err := patch.Run(context.Background(), ref, f.options(t, tags.Incremental))
		want := "no platform of the index has a patchable OS (linux/amd64: "
		if !errors.Is(err, patch.ErrUnsupported) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "windows/amd64: not a Linux platform") {
			t.Fatalf("err = %v\nwant %q", err, want)
		}
	})
}
