package imagefs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// resolveErr answers req and returns the error.
func resolveErr(t *testing.T, img v1.Image, req imagefs.Request) error {
	t.Helper()
	v, err := imagefs.Open(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Resolve(context.Background(), req)
	return err
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if !errors.Is(err, imagefs.ErrTooLarge) {
		t.Fatalf("err = %v, want imagefs.ErrTooLarge saying %q", err, parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

func TestMaxFileSizesPerPath(t *testing.T) {
	img := it.Image(t, it.Layer(t,
		it.File("etc/os-release", strings.Repeat("x", 200)),
		it.File("var/lib/rpm/Packages", strings.Repeat("r", 200)),
		it.File("var/lib/dpkg/status.d/big", strings.Repeat("d", 200)),
		it.Symlink("etc/lsb-release", "os-release"),
	))
	files := []string{"etc/os-release", "var/lib/rpm/Packages"}
	// The default cap lets the database through; os-release has its own.
	err := resolveErr(t, img, imagefs.Request{Files: files, MaxFileSize: 1000, MaxFileSizes: map[string]int64{"etc/os-release": 100}})
	wantErr(t, err, "etc/os-release", "200 bytes", "100 byte limit")

	res := resolve(t, img, imagefs.Request{Files: files, MaxFileSize: 100, MaxFileSizes: map[string]int64{"var/lib/rpm/Packages": 1000, "etc/os-release": 1000}})
	if n := res.Files["var/lib/rpm/Packages"]; len(n.Content) != 200 {
		t.Errorf("Packages: %d bytes of content, want 200", len(n.Content))
	}

	// A glob's children get the glob's cap.
	err = resolveErr(t, img, imagefs.Request{Globs: []string{"var/lib/dpkg/status.d/*"}, MaxFileSizes: map[string]int64{"var/lib/dpkg/status.d/*": 150}})
	wantErr(t, err, "var/lib/dpkg/status.d/big", "150 byte limit")

	// A symlink's target gets the cap of the path that led to it.
	err = resolveErr(t, img, imagefs.Request{Files: []string{"etc/lsb-release"}, MaxFileSizes: map[string]int64{"etc/lsb-release": 150}})
	wantErr(t, err, "etc/os-release", "150 byte limit")
}

func TestMaxTotalSize(t *testing.T) {
	img := it.Image(t, it.Layer(t,
		it.File("a", strings.Repeat("a", 600)),
		it.File("b", strings.Repeat("b", 600)),
	))
	err := resolveErr(t, img, imagefs.Request{Files: []string{"a", "b"}, MaxTotalSize: 1000})
	wantErr(t, err, "1200 bytes", "1000 byte limit for all")

	res := resolve(t, img, imagefs.Request{Files: []string{"a", "b"}, MaxTotalSize: 1200})
	if len(res.Files["a"].Content)+len(res.Files["b"].Content) != 1200 {
		t.Errorf("contents: %d and %d bytes", len(res.Files["a"].Content), len(res.Files["b"].Content))
	}
}

// TestHiddenCopiesAreNotRead: when every layer must be read (here for a
// file no layer has), the copies of a wanted file that upper layers hide
// are skipped, so they do not count against MaxTotalSize.
func TestHiddenCopiesAreNotRead(t *testing.T) {
	big := strings.Repeat("s", 600)
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": big}),
		it.Layer(t, it.Whiteout("var/lib/dpkg/status")),
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": big}),
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": "top"}),
	)
	res := resolve(t, img, imagefs.Request{Files: []string{"var/lib/dpkg/status", "etc/absent"}, MaxTotalSize: 100})
	wantFile(t, res, "var/lib/dpkg/status", "top", "var/lib/dpkg/status", 3)
	if len(res.LayersRead) != 4 {
		t.Errorf("%d layers read, want 4", len(res.LayersRead))
	}
}

func TestHardLinkCap(t *testing.T) {
	img := it.Image(t, it.Layer(t,
		it.File("usr/lib/os-release", strings.Repeat("x", 200)),
		it.Hardlink("etc/os-release", "usr/lib/os-release"),
	))
	err := resolveErr(t, img, imagefs.Request{Files: []string{"etc/os-release"}, MaxFileSizes: map[string]int64{"etc/os-release": 100}})
	wantErr(t, err, "etc/os-release", "200 bytes", "100 byte limit")
}
