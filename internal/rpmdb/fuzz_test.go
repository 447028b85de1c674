package rpmdb_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/patchloop/patchloop/internal/rpmdb"
)

// FuzzNDB feeds damaged NDB databases to Open, Add, Remove and Commit:
// they may fail but never panic or hang.
func FuzzNDB(f *testing.F) {
	dir := f.TempDir()
	if err := rpmdb.InitNDB(dir); err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	db, err := rpmdb.Open(ctx, dir)
	if err != nil {
		f.Fatal(err)
	}
	for i := range 5 {
		if _, err := db.Add(ctx, synthHeader(i+1, 3, 20)); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := db.Commit(ctx); err != nil {
		f.Fatal(err)
	}
	pkgs, _ := os.ReadFile(filepath.Join(dir, rpmdb.NDBPackages))
	idx, _ := os.ReadFile(filepath.Join(dir, rpmdb.NDBIndex))
	f.Add(pkgs, idx, uint32(2), 100, byte(1))
	f.Fuzz(func(t *testing.T, pkgs, idx []byte, remove uint32, at int, val byte) {
		if at >= 0 && at < len(idx) {
			idx[at] ^= val
		}
		if at >= 0 && at < len(pkgs) {
			pkgs[at] ^= val
		}
		d := t.TempDir()
		_ = os.WriteFile(filepath.Join(d, rpmdb.NDBPackages), pkgs, 0o644)
		_ = os.WriteFile(filepath.Join(d, rpmdb.NDBIndex), idx, 0o644)
		db, err := rpmdb.Open(ctx, d)
		if err != nil {
			return
		}
		_, _ = rpmdb.IndexEntries(db)
		_, _ = db.Add(ctx, synthHeader(9, 4, 30))
		_ = db.Remove(ctx, remove)
		_, _ = db.Commit(ctx)
	})
}
