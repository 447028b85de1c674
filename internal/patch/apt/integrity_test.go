package apt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

func TestPatchChecksLayersAndCleansItsSpool(t *testing.T) {
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-1")}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{hello("1.0-2")}},
	}})
	img := patchtest.Image(t, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    []aptrepo.Package{hello("1.0-1")},
		SourcesList: sourcesFor(repo, "bookworm", "bookworm-security"),
		Keyring:     repo.Keyring,
	})
	db := patchtest.Database(t, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"})
	fs := patchtest.Findings(t, img, db)
	p := newPatcher(t, apt.Options{})
	spooled := func(dir string) []string {
		names, _ := filepath.Glob(filepath.Join(dir, "patchloop-spool-*"))
		return names
	}

	// The patcher reads the image in several passes, each layer fetched
	// once and then read from its spool, and leaves nothing behind.
	work := t.TempDir()
	counted, counter := imagetest.Count(img)
	out, err := p.Patch(context.Background(), counted, patch.Request{Findings: fs, WorkDir: work})
	if err != nil || out.Layer == nil {
		t.Fatalf("Patch: %v, %+v", err, out)
	}
	ls, _ := img.Layers()
	for i := range ls {
		if n := counter.Opened(i); n > 1 {
			t.Errorf("layer %d fetched %d times", i, n)
		}
	}
	if names := spooled(work); len(names) != 0 {
		t.Errorf("left in the work directory: %v", names)
	}

	// An image whose config claims other diff_ids than its layers hold is
	// refused.
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	ids := append([]v1.Hash(nil), cfg.RootFS.DiffIDs...)
	ids[len(ids)-1], _ = v1.NewHash("sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	work = t.TempDir()
	_, err = p.Patch(context.Background(), imagetest.ClaimDiffIDs(t, img, ids), patch.Request{Findings: fs, WorkDir: work})
	if !errors.Is(err, imagefs.ErrDigestMismatch) {
		t.Fatalf("Patch of a layer not matching its diff_id: %v", err)
	}
	if names := spooled(work); len(names) != 0 {
		t.Errorf("left in the work directory: %v", names)
	}
}
