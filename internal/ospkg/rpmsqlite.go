package ospkg

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// isSQLite reports whether data is an SQLite database.
func isSQLite(data []byte) bool { return bytes.HasPrefix(data, sqliteMagic) }

// readSQLite returns the header blobs of rpm's rpmdb.sqlite.
func readSQLite(ctx context.Context, data []byte) ([][]byte, error) {
	return collect(ctx, data, eachSQLiteBlob)
}

// eachSQLiteBlob calls fn with each header blob of rpm's rpmdb.sqlite. SQLite
// needs a file, so the database is written to a private temporary directory
// first and opened read-only and immutable (no journal or lock files).
func eachSQLiteBlob(ctx context.Context, data []byte, fn func([]byte) error) error {
	dir, err := os.MkdirTemp("", "patchloop-rpmdb-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	path := filepath.Join(dir, "rpmdb.sqlite")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write temporary copy: %w", err)
	}
	dsn := (&url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&immutable=1"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	defer func() { _ = db.Close() }()
	rows, err := db.QueryContext(ctx, "SELECT blob FROM Packages")
	if err != nil {
		return fmt.Errorf("query Packages: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var b sql.RawBytes // valid until the next row: fn parses it at once
		if err := rows.Scan(&b); err != nil {
			return fmt.Errorf("read Packages row: %w", err)
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read Packages: %w", err)
	}
	return nil
}
