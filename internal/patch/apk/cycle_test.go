package apk_test

import (
	"fmt"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/patch"
	apkpatch "github.com/patchloop/patchloop/internal/patch/apk"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
	"github.com/patchloop/patchloop/internal/testutil/heap"
)

const communityRepo = "alpine/v3.22/community"

// cycleImages serves an Alpine-sized release (main: hello 1.0-r1 among
// main synthetic records; community: community records) and returns n
// images with hello 1.0-r0 and i other packages installed, using both
// repositories.
func cycleImages(t testing.TB, n, main, community int) []v1.Image {
	hello := func(v string) apkrepo.Package {
		return apkrepo.Package{Name: "hello", Version: v, Depends: []string{"so:libc.musl-x86_64.so.1"},
			Files: []apkrepo.File{{Path: "usr/bin/hello", Body: "hello " + v, Mode: 0o755}}}
	}
	srv := apkrepo.New(t, apkrepo.Config{Repositories: []apkrepo.Repository{
		{Path: mainRepo, Packages: []apkrepo.Package{musl, hello("1.0-r1")}, Synthetic: main},
		{Path: communityRepo, Synthetic: community},
	}})
	var imgs []v1.Image
	for i := range n {
		installed := []apkrepo.Package{musl, hello("1.0-r0")}
		for j := range i {
			installed = append(installed, apkrepo.Package{Name: fmt.Sprintf("pkg%03d", j), Version: "1.0-r0",
				Files: []apkrepo.File{{Path: fmt.Sprintf("usr/share/pkg%03d/README", j), Body: "readme"}}})
		}
		imgs = append(imgs, apkrepo.Image(t, apkrepo.ImageSpec{Packages: installed,
			Repositories: []string{srv.RepoURL(mainRepo), srv.RepoURL(communityRepo)}}))
	}
	return imgs
}

var helloFinding = []patch.Finding{{VulnerabilityID: "CVE-2026-0001", PkgName: "hello", InstalledVersion: "1.0-r0", FixedVersion: "1.0-r1"}}

// patchHello patches img and computes the patched image's digest.
func patchHello(t testing.TB, p *apkpatch.Patcher, img v1.Image, work string) {
	t.Helper()
	patched, out, err := patchtest.PatchImageIn(t, p, img, helloFinding, work)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Updates) != 1 || out.Updates[0].To != "1.0-r1" || out.Layer == nil {
		t.Fatalf("outcome %+v", out)
	}
	if _, err := patched.Digest(); err != nil {
		t.Fatal(err)
	}
}

// TestCycleParsesIndexesOnce patches several images of one release with
// one patcher: each repository's index is parsed once; a new patcher on
// the same cache parses none.
func TestCycleParsesIndexesOnce(t *testing.T) {
	t.Parallel()
	imgs := cycleImages(t, 4, 500, 1000)
	dir := t.TempDir()
	p, err := apkpatch.New(apkpatch.Options{CacheDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		patchHello(t, p, img, t.TempDir())
	}
	if got := p.IndexStats(); got != (apk.IndexStats{Parsed: 2}) {
		t.Fatalf("after %d patches: %+v, want each of the 2 indexes parsed once", len(imgs), got)
	}
	p2, err := apkpatch.New(apkpatch.Options{CacheDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	patchHello(t, p2, imgs[0], t.TempDir())
	if got := p2.IndexStats(); got != (apk.IndexStats{Loaded: 2}) {
		t.Fatalf("new patcher on the same cache: %+v, want both tables loaded from disk", got)
	}
}

// BenchmarkPatchCycle patches 20 images of one Alpine release (main with
// 5,600 records, community with 20,000) with one patcher, as one cycle of
// a long-running service, and fails unless each index was parsed once. It
// reports the seconds for the whole cycle and the peak heap in use.
func BenchmarkPatchCycle(b *testing.B) {
	const images = 20
	imgs := cycleImages(b, images, 5600, 20000)
	var m heap.Meter
	for b.Loop() {
		b.StopTimer()
		p, err := apkpatch.New(apkpatch.Options{CacheDir: b.TempDir(), Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		work := b.TempDir()
		m.Measure(b, func() {
			for _, img := range imgs {
				patchHello(b, p, img, work)
			}
		})
		if got := p.IndexStats(); got != (apk.IndexStats{Parsed: 2}) {
			b.Fatalf("index stats after %d patches = %+v, want each index parsed once", images, got)
		}
	}
	m.Report(b, "cycle")
}
