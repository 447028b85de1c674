package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLiteDB is a SQLite database behind one open connection.
type SQLiteDB struct {
	db *sql.DB
}

// OpenSQLite opens (creating it when absent) the SQLite database file at
// path, in WAL mode with a busy timeout, and limits the pool to one open
// connection: SQLite allows one writer at a time, and River's own
// background work would otherwise fail with SQLITE_BUSY.
//
// An existing file of zero bytes is refused: SQLite would take it for a new
// database, and a service whose database was truncated would start with no
// workflows as if nothing had happened.
func OpenSQLite(ctx context.Context, path string) (*SQLiteDB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite database path %q: want a file path without ? or #", path)
	}
	if err := checkNotEmpty(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	return &SQLiteDB{db: db}, nil
}

// checkNotEmpty refuses an existing database file of zero bytes, unless
// its write-ahead log holds the data (a crash before the first checkpoint).
func checkNotEmpty(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > 0 {
		return nil
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		return nil
	}
	return fmt.Errorf("sqlite database %s is an empty file (0 bytes), not a Patchloop database: "+
		"if it was truncated, restore it from a backup; to start afresh with no workflows, delete the file", path)
}

// SQL returns the underlying pool, for River's SQLite driver.
func (s *SQLiteDB) SQL() *sql.DB { return s.db }

// Dialect returns SQLite.
func (s *SQLiteDB) Dialect() Dialect { return SQLite }

// Close closes the database.
func (s *SQLiteDB) Close() error { return s.db.Close() }

// Exec implements Queryer.
func (s *SQLiteDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return sqlExec(ctx, s.db, query, args)
}

// Query implements Queryer.
func (s *SQLiteDB) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return sqlQuery(ctx, s.db, query, args)
}

// QueryRow implements Queryer.
func (s *SQLiteDB) QueryRow(ctx context.Context, query string, args ...any) Row {
	return sqlRow{s.db.QueryRowContext(ctx, query, args...)}
}

// Begin starts a transaction (BEGIN IMMEDIATE).
func (s *SQLiteDB) Begin(ctx context.Context) (Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return sqlTx{tx}, nil
}

// sqlConn is what *sql.DB and *sql.Tx share.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func sqlExec(ctx context.Context, c sqlConn, query string, args []any) (int64, error) {
	res, err := c.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func sqlQuery(ctx context.Context, c sqlConn, query string, args []any) (Rows, error) {
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return sqlExec(ctx, t.tx, query, args)
}

func (t sqlTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return sqlQuery(ctx, t.tx, query, args)
}

func (t sqlTx) QueryRow(ctx context.Context, query string, args ...any) Row {
	return sqlRow{t.tx.QueryRowContext(ctx, query, args...)}
}

func (t sqlTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t sqlTx) Rollback(context.Context) error { return t.tx.Rollback() }
func (t sqlTx) Native() any                    { return t.tx }

type sqlRows struct{ rows *sql.Rows }

func (r sqlRows) Next() bool             { return r.rows.Next() }
func (r sqlRows) Scan(dest ...any) error { return r.rows.Scan(dest...) }
func (r sqlRows) Err() error             { return r.rows.Err() }
func (r sqlRows) Close()                 { _ = r.rows.Close() }

type sqlRow struct{ row *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
