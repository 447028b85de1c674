package apt_test

import (
	"fmt"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/heap"
)

// benchParagraphs is the size of the benchmark index: bookworm's main
// Packages for amd64 has 63,440 paragraphs.
const benchParagraphs = 63440

// bookwormSized is a repository whose bookworm main index holds hello
// 1.0-2 among benchParagraphs synthetic packages, served as Packages.gz
// and Packages.xz, as Debian's mirrors do.
func bookwormSized(b *testing.B) *aptrepo.Repo {
	return aptrepo.New(b, aptrepo.Config{
		IndexFormats: []compression.Format{compression.Gzip, compression.XZ},
		Suites: []aptrepo.Suite{{Name: "bookworm", Synthetic: benchParagraphs,
			Packages: []aptrepo.Package{hello("1.0-2")}}},
	})
}

// indexImage is a bookworm image with hello 1.0-1 and n other packages
// installed, pointing at repo.
func indexImage(b *testing.B, repo *aptrepo.Repo, n int) v1.Image {
	installed := []aptrepo.Package{hello("1.0-1")}
	for i := range n {
		installed = append(installed, aptrepo.Package{Name: fmt.Sprintf("pkg%03d", i), Version: "1.0-1"})
	}
	return patchtest.Image(b, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    installed,
		SourcesList: sourcesFor(repo, "bookworm"),
		Keyring:     repo.Keyring,
	})
}

// patchOnce patches img and computes the patched image's digest.
func patchOnce(b *testing.B, p *apt.Patcher, img v1.Image) {
	patched, _, err := patchtest.PatchImage(b, p, img, helloFinding)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := patched.Digest(); err != nil {
		b.Fatal(err)
	}
}

// benchmarkPatchIndex (BenchmarkPatch/index) patches one package of a small image against a
// bookworm-sized index (63,440 paragraphs):
//   - first: an empty cache, so the index is downloaded and parsed;
//   - warm: a new patcher on a cache holding the index and the package,
//     as each `patchloop patch` process after the first.
//
// It reports seconds per patch and the peak heap in use.
func benchmarkPatchIndex(b *testing.B) {
	repo := bookwormSized(b)
	img := indexImage(b, repo, 150)
	primed := b.TempDir()
	patchOnce(b, newPatcher(b, apt.Options{CacheDir: primed, Logger: quiet}), img)
	for _, mode := range []string{"first", "warm"} {
		b.Run(mode, func(b *testing.B) {
			var m heap.Meter
			for b.Loop() {
				b.StopTimer()
				dir := primed
				if mode == "first" {
					dir = b.TempDir()
				}
				p := newPatcher(b, apt.Options{CacheDir: dir, Logger: quiet})
				m.Measure(b, func() {
					patchOnce(b, p, img)
				})
				want := archive.IndexStats{}
				if mode == "first" {
					want.Parsed = 1
				} else {
					want.Loaded = 1
				}
				if got := p.IndexStats(); got != want {
					b.Fatalf("index stats = %+v, want %+v", got, want)
				}
			}
			m.Report(b, "patch")
		})
	}
}

// BenchmarkPatchCycle patches 20 different images of one release with one
// patcher, as one cycle of a long-running service: the bookworm-sized
// index is parsed once (checked through IndexStats). It reports the
// seconds for the whole cycle and the peak heap in use.
func BenchmarkPatchCycle(b *testing.B) {
	const images = 20
	repo := bookwormSized(b)
	var imgs []v1.Image
	for i := range images {
		imgs = append(imgs, indexImage(b, repo, 10+i))
	}
	var m heap.Meter
	for b.Loop() {
		b.StopTimer()
		p := newPatcher(b, apt.Options{CacheDir: b.TempDir(), Logger: quiet})
		m.Measure(b, func() {
			for _, img := range imgs {
				patchOnce(b, p, img)
			}
		})
		if got := p.IndexStats(); got != (archive.IndexStats{Parsed: 1}) {
			b.Fatalf("index stats after %d patches = %+v, want the index parsed once and nothing else", images, got)
		}
	}
	m.Report(b, "cycle")
}
