package store

import (
	"context"
	"errors"
)

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("not found")

// Dialect names the SQL database behind a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Queryer runs SQL written with ? placeholders.
type Queryer interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query; the caller closes the rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query expected to return at most one row; Scan
	// returns ErrNotFound when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows iterates over a query's result.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface {
	Scan(dest ...any) error
}

// Tx is a transaction.
type Tx interface {
	Queryer
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
	// Native returns the driver's transaction (*sql.Tx for SQLite, pgx.Tx
	// for PostgreSQL), for River's InsertTx.
	Native() any
}

// DB is an open database.
type DB interface {
	Queryer
	Begin(ctx context.Context) (Tx, error)
	Dialect() Dialect
	Close() error
}
