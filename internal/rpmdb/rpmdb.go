// Package rpmdb writes rpm's installed-package database, as rpm itself
// would: SQLite (rpmdb.sqlite: Fedora, EL9, Amazon Linux 2023, Azure Linux)
// and NDB (Packages.db and Index.db: SUSE). BerkeleyDB (Packages: EL8,
// Amazon Linux 2) is read-only in Patchloop.
//
// A DB works on a private copy of an image's database directory (dbpath,
// usually /var/lib/rpm): Open it, Remove the headers of upgraded packages,
// Add the new installed headers (InstalledHeader builds them from a package
// file's headers), Commit, and put the files Commit names into the layer.
// Untouched packages keep their header blobs byte for byte and every index
// rpm and dnf read stays consistent.
package rpmdb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/patchloop/patchloop/internal/rpm"
)

// Format is an rpm database backend.
type Format int

// The backends rpm has used.
const (
	FormatUnknown Format = iota
	FormatSQLite
	FormatNDB
	FormatBerkeleyDB
)

func (f Format) String() string {
	switch f {
	case FormatSQLite:
		return "sqlite"
	case FormatNDB:
		return "ndb"
	case FormatBerkeleyDB:
		return "BerkeleyDB"
	}
	return "unknown"
}

// ReadOnlyError is returned by Open for a database Patchloop cannot write.
// It is permanent: retrying does not help.
type ReadOnlyError struct {
	Format Format
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("rpmdb format %s is read-only in Patchloop", e.Format)
}

// Permanent reports that retrying cannot succeed.
func (e *ReadOnlyError) Permanent() bool { return true }

// ErrReadOnly is matched by errors.Is for every ReadOnlyError.
var ErrReadOnly = errors.New("rpmdb format is read-only in Patchloop")

// Is makes errors.Is(err, ErrReadOnly) true.
func (e *ReadOnlyError) Is(target error) bool { return target == ErrReadOnly }

// ErrNoDatabase is returned by Detect and Open when the directory holds no
// rpm database.
var ErrNoDatabase = errors.New("no rpm database")

// ErrNoPackage is returned by Remove for a header number not in the
// database.
var ErrNoPackage = errors.New("no such package in rpm database")

// File names of each backend in the database directory.
const (
	SQLiteFile  = "rpmdb.sqlite"
	NDBPackages = "Packages.db"
	NDBIndex    = "Index.db"
	BDBPackages = "Packages"
)

// Detect returns the format of the database in dir, preferring SQLite, then
// NDB, then BerkeleyDB when several are present (as rpm's default backends
// make one of them current).
func Detect(dir string) (Format, error) {
	for _, c := range []struct {
		name string
		f    Format
	}{{SQLiteFile, FormatSQLite}, {NDBPackages, FormatNDB}, {BDBPackages, FormatBerkeleyDB}} {
		if fi, err := os.Lstat(filepath.Join(dir, c.name)); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			return c.f, nil
		}
	}
	return FormatUnknown, fmt.Errorf("%s: %w (looked for %s, %s and %s)", dir, ErrNoDatabase, SQLiteFile, NDBPackages, BDBPackages)
}

// Package is one installed package: its header number and header blob.
type Package struct {
	HNum uint32
	Blob []byte
}

// Header parses the package's header.
func (p Package) Header() (*rpm.Header, error) {
	h, err := rpm.ParseBlob(p.Blob)
	if err != nil {
		return nil, fmt.Errorf("rpmdb package %d: %w", p.HNum, err)
	}
	return h, nil
}

// Changes names the files of the database directory Commit changed: those
// to write into the layer and those to delete (whiteout) from the image.
type Changes struct {
	Write  []string // names relative to the database directory
	Delete []string
}

// backend is one database format.
type backend interface {
	each(ctx context.Context, fn func(Package) error) error
	get(ctx context.Context, hnum uint32) ([]byte, error)
	remove(ctx context.Context, hnum uint32, h *rpm.Header) error
	add(ctx context.Context, blob []byte, h *rpm.Header) (uint32, error)
	entries(ix Index) ([]IndexEntry, error)
	commit(ctx context.Context) (Changes, error)
	close() error
}

// DB is an rpm database being changed. It is not safe for concurrent use.
type DB struct {
	dir    string
	format Format
	b      backend
	done   bool
}

// Open opens the database in dir, a private copy of an image's dbpath that
// Open and Commit change in place. A BerkeleyDB gives a *ReadOnlyError.
func Open(ctx context.Context, dir string) (*DB, error) {
	f, err := Detect(dir)
	if err != nil {
		return nil, err
	}
	var b backend
	switch f {
	case FormatSQLite:
		b, err = openSQLite(ctx, dir)
	case FormatNDB:
		b, err = openNDB(ctx, dir)
	default:
		return nil, &ReadOnlyError{Format: f}
	}
	if err != nil {
		return nil, err
	}
	return &DB{dir: dir, format: f, b: b}, nil
}

// Format returns the database's format.
func (db *DB) Format() Format { return db.format }

// Each calls fn with every installed package, by header number.
func (db *DB) Each(ctx context.Context, fn func(Package) error) error {
	return db.b.each(ctx, fn)
}

// Packages returns every installed package, by header number.
func (db *DB) Packages(ctx context.Context) ([]Package, error) {
	var out []Package
	err := db.Each(ctx, func(p Package) error { out = append(out, p); return nil })
	return out, err
}

// InstallColor returns the INSTALLCOLOR of the most recently added header:
// the transaction color of the image's rpm. ok is false for an empty
// database.
func (db *DB) InstallColor(ctx context.Context) (color uint32, ok bool, err error) {
	err = db.Each(ctx, func(p Package) error {
		h, err := p.Header()
		if err != nil {
			return err
		}
		if v, err := h.Int32s(rpm.TagInstallColor); err == nil && len(v) == 1 {
			color, ok = uint32(v[0]), true
		}
		return nil
	})
	return color, ok, err
}

// Remove removes package hnum and its index entries.
func (db *DB) Remove(ctx context.Context, hnum uint32) error {
	blob, err := db.b.get(ctx, hnum)
	if err != nil {
		return err
	}
	h, err := rpm.ParseBlob(blob)
	if err != nil {
		return fmt.Errorf("rpmdb package %d: %w", hnum, err)
	}
	return db.b.remove(ctx, hnum, h)
}

// Add adds an installed header (see InstalledHeader) and its index entries
// and returns its header number.
func (db *DB) Add(ctx context.Context, h *rpm.Header) (uint32, error) {
	for _, t := range []rpm.Tag{rpm.TagName, rpm.TagVersion, rpm.TagRelease} {
		if !h.Has(t) {
			return 0, fmt.Errorf("rpmdb add: header lacks tag %d", t)
		}
	}
	if h.Region() != rpm.TagHeaderImmutable {
		return 0, errors.New("rpmdb add: header has no immutable region")
	}
	blob, err := h.Blob()
	if err != nil {
		return 0, fmt.Errorf("rpmdb add: %w", err)
	}
	return db.b.add(ctx, blob, h)
}

// Commit writes every change and leaves the directory as rpm leaves it. The
// DB cannot be used afterwards.
func (db *DB) Commit(ctx context.Context) (Changes, error) {
	if db.done {
		return Changes{}, errors.New("rpmdb: already committed or closed")
	}
	db.done = true
	return db.b.commit(ctx)
}

// Close releases the database; changes not committed are lost (the
// directory is then unusable and should be discarded).
func (db *DB) Close() error {
	db.done = true
	return db.b.close()
}

// hostOrder is the byte order of integer index keys rpm writes on the
// architectures images run on (little-endian but for s390x; a database's
// existing keys decide, see detectOrder).
var hostOrder binary.ByteOrder = binary.LittleEndian

// detectOrder returns the byte order of a database's Installtid keys by
// comparing a key with the INSTALLTID of its header.
func detectOrder(key []byte, h *rpm.Header) binary.ByteOrder {
	v, err := h.Int32s(rpm.TagInstallTID)
	if err != nil || len(v) == 0 || len(key) != 4 {
		return hostOrder
	}
	if binary.BigEndian.Uint32(key) == uint32(v[0]) && binary.LittleEndian.Uint32(key) != uint32(v[0]) {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// IndexEntry is one entry of an index: key, header number and element.
type IndexEntry struct {
	Key  []byte
	HNum uint32
	Idx  uint32
}

// SortEntries sorts entries by key, header number and element and drops
// duplicates (NDB keeps one of each; SQLite may repeat them).
func SortEntries(es []IndexEntry) []IndexEntry {
	out := slices.Clone(es)
	slices.SortFunc(out, func(a, b IndexEntry) int {
		if c := bytes.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if a.HNum != b.HNum {
			return cmp.Compare(a.HNum, b.HNum)
		}
		return cmp.Compare(a.Idx, b.Idx)
	})
	return slices.CompactFunc(out, func(a, b IndexEntry) bool {
		return a.HNum == b.HNum && a.Idx == b.Idx && bytes.Equal(a.Key, b.Key)
	})
}

// IndexEntries returns every entry of every index by index name (Index.Name),
// sorted by SortEntries: for checks and tests.
func IndexEntries(db *DB) (map[string][]IndexEntry, error) {
	out := map[string][]IndexEntry{}
	for _, ix := range Indexes {
		es, err := db.b.entries(ix)
		if err != nil {
			return nil, err
		}
		out[ix.Name] = SortEntries(es)
	}
	return out, nil
}
