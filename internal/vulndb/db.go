package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket names of the database's top level besides the platform buckets.
const (
	vulnerabilityBucket = "vulnerability"
	dataSourceBucket    = "data-source"
)

// lockTimeout bounds the wait for the database file lock, which a writer
// in another process may hold.
const lockTimeout = 5 * time.Second

// DB is an open, read-only Trivy database. It is safe for concurrent use.
type DB struct {
	dir     string
	bolt    *bolt.DB
	meta    Metadata
	sources map[string]DataSource
}

// Open opens the database in dir (the directory holding trivy.db and
// metadata.json) read-only. It fails with an error wrapping ErrNoDatabase,
// which tells the user what to do, when the directory holds no usable
// database of schema version 2.
func Open(ctx context.Context, dir string) (*DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open vulnerability database in %s: %w", dir, err)
	}
	path := filepath.Join(dir, DBFile)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist; %s", ErrNoDatabase, path, hint)
		}
		return nil, fmt.Errorf("open vulnerability database: %w", err)
	}
	meta, err := ReadMetadata(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w; %s", ErrNoDatabase, err, hint)
	}
	if meta.Version != SchemaVersion {
		return nil, fmt.Errorf("%w: %s has schema version %d, want %d; %s",
			ErrNoDatabase, dir, meta.Version, SchemaVersion, hint)
	}

	timeout := lockTimeout
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < timeout {
		timeout = max(time.Until(deadline), time.Millisecond)
	}
	var b *bolt.DB
	err = guard(path, func() (err error) {
		b, err = bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true, Timeout: timeout})
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNoDatabase) {
			return nil, err
		}
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open vulnerability database %s: locked by another process (waited %s): %w", path, timeout, err)
		}
		return nil, fmt.Errorf("%w: %s is not a valid database file (%w); %s", ErrNoDatabase, path, err, hint)
	}
	db := &DB{dir: dir, bolt: b, meta: meta}
	if err := db.load(ctx); err != nil {
		_ = b.Close()
		return nil, err
	}
	return db, nil
}

// load checks that the file is a Trivy database and reads the data sources,
// a small bucket every lookup needs.
func (d *DB) load(ctx context.Context) error {
	d.sources = map[string]DataSource{}
	return d.view(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(vulnerabilityBucket)) == nil {
			return fmt.Errorf("%w: %s has no %q bucket, so it is not a Trivy database; %s",
				ErrNoDatabase, filepath.Join(d.dir, DBFile), vulnerabilityBucket, hint)
		}
		b := tx.Bucket([]byte(dataSourceBucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			ds, err := decodeDataSource(string(k), v)
			if err != nil {
				slog.WarnContext(ctx, "skipping unreadable data source", "dir", d.dir, "err", err)
				return nil
			}
			d.sources[string(k)] = ds
			return nil
		})
	})
}

// view runs fn in a read transaction, reporting a corrupted file as an
// error.
func (d *DB) view(fn func(*bolt.Tx) error) error {
	return guard(filepath.Join(d.dir, DBFile), func() error { return d.bolt.View(fn) })
}

// Close releases the database file.
func (d *DB) Close() error {
	if err := d.bolt.Close(); err != nil {
		return fmt.Errorf("close vulnerability database in %s: %w", d.dir, err)
	}
	return nil
}

// Dir returns the directory the database was opened from.
func (d *DB) Dir() string { return d.dir }

// Metadata returns the content of the database's metadata.json.
func (d *DB) Metadata() Metadata { return d.meta }

// DataSource returns the data source of a platform bucket such as
// "debian 12", and false when the database names none.
func (d *DB) DataSource(platform string) (DataSource, bool) {
	ds, ok := d.sources[platform]
	return ds, ok
}

// Advisories returns the advisories recorded for a package on a platform
// (see Platform for the bucket name, and docs/formats-vulndb.md for which
// package name each distribution uses: the source package for Debian and
// Ubuntu, the origin for Alpine, …), ordered by vulnerability ID.
// Advisories for other architectures are included; filter them with
// Advisory.AppliesTo. A platform or package without advisories gives none.
func (d *DB) Advisories(ctx context.Context, platform, pkgName string) ([]Advisory, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("advisories for %s on %q: %w", pkgName, platform, err)
	}
	src := d.sources[platform]
	var out []Advisory
	err := d.view(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(platform))
		if root == nil {
			return nil
		}
		pkg := root.Bucket([]byte(pkgName))
		if pkg == nil {
			return nil
		}
		return pkg.ForEach(func(k, v []byte) error {
			if len(v) == 0 { // a nested bucket or an empty value
				return nil
			}
			advs, err := decodeAdvisories(string(k), v, src)
			if err != nil {
				return err
			}
			out = append(out, advs...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("advisories for %s on %q: %w", pkgName, platform, err)
	}
	return out, nil
}

// Vulnerability returns the details of a vulnerability ID. It fails with
// an error wrapping ErrNotFound when the database has none, which happens
// for IDs that sources name but none describes (or that were rejected).
func (d *DB) Vulnerability(ctx context.Context, id string) (Vulnerability, error) {
	if err := ctx.Err(); err != nil {
		return Vulnerability{}, fmt.Errorf("vulnerability %s: %w", id, err)
	}
	var v Vulnerability
	err := d.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(vulnerabilityBucket))
		if b == nil {
			return ErrNotFound
		}
		value := b.Get([]byte(id))
		if value == nil {
			return ErrNotFound
		}
		var err error
		v, err = decodeVulnerability(id, value)
		return err
	})
	if err != nil {
		return Vulnerability{}, fmt.Errorf("vulnerability %s: %w", id, err)
	}
	return v, nil
}
