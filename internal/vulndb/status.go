package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// StatusReport describes the database installed in a directory.
type StatusReport struct {
	// Dir is the database directory.
	Dir string
	// Present is false when the directory holds no trivy.db; the other
	// fields are then zero.
	Present bool
	// Size is the size of trivy.db in bytes.
	Size int64
	// Metadata is the content of metadata.json: schema version,
	// UpdatedAt, NextUpdate and DownloadedAt.
	Metadata Metadata
	// Age is how long ago the database was built (now − UpdatedAt).
	Age time.Duration
	// Stale is true once NextUpdate has passed: a newer build should be
	// available.
	Stale bool
	// Source is where Update downloaded the database from; zero when it
	// was put in place by other means.
	Source Source
}

// Status reports on the database in dir as of now. A directory without a
// database is not an error: the report then says Present false.
func Status(ctx context.Context, dir string, now time.Time) (StatusReport, error) {
	r := StatusReport{Dir: dir}
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("database status of %s: %w", dir, err)
	}
	fi, err := os.Stat(filepath.Join(dir, DBFile))
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("database status: %w", err)
	}
	meta, err := ReadMetadata(dir)
	if err != nil {
		return r, fmt.Errorf("database status of %s: %w", dir, err)
	}
	src, err := readSource(dir)
	if err != nil {
		return r, fmt.Errorf("database status of %s: %w", dir, err)
	}
	r.Present = true
	r.Size = fi.Size()
	r.Metadata = meta
	r.Age = now.Sub(meta.UpdatedAt)
	r.Stale = !now.Before(meta.NextUpdate)
	r.Source = src
	return r, nil
}
