package rpmdb_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/patchloop/patchloop/internal/rpmdb"
)

// benchDB returns a database directory of format f holding n synthetic
// packages of 60 files each.
func benchDB(b *testing.B, f rpmdb.Format, n int) string {
	b.Helper()
	dir := b.TempDir()
	ctx := context.Background()
	var err error
	if f == rpmdb.FormatNDB {
		err = rpmdb.InitNDB(dir)
	} else {
		err = rpmdb.InitSQLite(ctx, dir)
	}
	if err != nil {
		b.Fatal(err)
	}
	db, err := rpmdb.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := db.Add(ctx, synthHeader(i+1, 60, 20000)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkUpgradeOne is one package upgrade in a database of 500
// packages (about 10 MB of headers): copy the database, open it, remove
// one header, add one, commit.
func BenchmarkUpgradeOne(b *testing.B) {
	for _, f := range []rpmdb.Format{rpmdb.FormatSQLite, rpmdb.FormatNDB} {
		b.Run(f.String(), func(b *testing.B) {
			src := benchDB(b, f, 500)
			ctx := context.Background()
			h := synthHeader(9999, 60, 20000)
			for b.Loop() {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "db")
				if out, err := exec.Command("cp", "-a", src, dir).CombinedOutput(); err != nil {
					b.Fatalf("cp: %v %s", err, out)
				}
				b.StartTimer()
				db, err := rpmdb.Open(ctx, dir)
				if err != nil {
					b.Fatal(err)
				}
				if err := db.Remove(ctx, 250); err != nil {
					b.Fatal(err)
				}
				if _, err := db.Add(ctx, h); err != nil {
					b.Fatal(err)
				}
				if _, err := db.Commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
			var size int64
			entries, _ := os.ReadDir(src)
			for _, e := range entries {
				if fi, err := e.Info(); err == nil {
					size += fi.Size()
				}
			}
			b.ReportMetric(float64(size)/(1<<20), "dbMB")
		})
	}
}
