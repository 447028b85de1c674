package ospkg_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/patchloop/patchloop/internal/ospkg"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

func TestCacheSkipsLayersOnRescan(t *testing.T) {
	dir := t.TempDir()
	cache, err := ospkg.NewDirCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	img, counter := it.Count(distroless(t))
	first := inspect(t, img, ospkg.WithCache(cache))
	opened := counter.Total()
	if first.FromCache || opened == 0 || len(first.LayersRead) == 0 {
		t.Fatalf("first scan: from cache %v, %d opens", first.FromCache, opened)
	}

	// A new process (new cache value, same directory) rescans the image.
	cache2, err := ospkg.NewDirCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	second := inspect(t, img, ospkg.WithCache(cache2))
	if counter.Total() != opened {
		t.Errorf("rescan opened %d layers", counter.Total()-opened)
	}
	if !second.FromCache || second.LayersRead != nil {
		t.Errorf("rescan: from cache %v, layers read %v", second.FromCache, second.LayersRead)
	}
	first.LayersRead = nil
	second.FromCache = false
	if !reflect.DeepEqual(first, second) {
		t.Errorf("cached inventory differs:\n%+v\n%+v", first, second)
	}

	// Another image with the same layers shares the entry; one more layer does not.
	k1, _ := ospkg.CacheKey(img)
	k2, _ := ospkg.CacheKey(distroless(t))
	k3, _ := ospkg.CacheKey(distroless(t, it.FilesLayer(t, map[string]string{"x": "y"})))
	if k1 != k2 || k1 == k3 {
		t.Errorf("keys: %s %s %s", k1, k2, k3)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || filepath.Base(files[0]) != k1+".json" {
		t.Errorf("cache files: %v", files)
	}
}

func TestCacheRemembersUnsupported(t *testing.T) {
	cache, err := ospkg.NewDirCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	img, counter := it.Count(it.Image(t, it.FilesLayer(t, map[string]string{"app": "x"})))
	for range 2 {
		if _, err := ospkg.Inspect(context.Background(), img, ospkg.WithCache(cache)); !errors.Is(err, ospkg.ErrUnsupportedOS) {
			t.Fatalf("err = %v", err)
		}
	}
	if counter.Total() != 1 {
		t.Errorf("layer opened %d times", counter.Total())
	}
}

func TestDirCacheCorruptEntryIsAMiss(t *testing.T) {
	dir := t.TempDir()
	cache, err := ospkg.NewDirCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	img := distroless(t)
	key, err := ospkg.CacheKey(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, key+".json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := inspect(t, img, ospkg.WithCache(cache))
	if inv.FromCache || len(inv.Packages) != 5 {
		t.Errorf("from cache %v, %d packages", inv.FromCache, len(inv.Packages))
	}
	if _, ok, err := cache.Get(context.Background(), key); !ok || err != nil {
		t.Errorf("entry not rewritten: %v %v", ok, err)
	}
	for _, bad := range []string{"", "../x", "a/b"} {
		if err := cache.Put(context.Background(), bad, &ospkg.CacheEntry{Unsupported: "x"}); err == nil {
			t.Errorf("Put(%q) accepted", bad)
		}
	}
}
