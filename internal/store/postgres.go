package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresDB is a PostgreSQL database behind a pgx pool.
type PostgresDB struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the PostgreSQL database named by a URL or
// keyword/value connection string.
func OpenPostgres(ctx context.Context, dsn string) (*PostgresDB, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres database: %w", err)
	}
	return &PostgresDB{pool: pool}, nil
}

// Pool returns the underlying pool, for River's pgx driver.
func (p *PostgresDB) Pool() *pgxpool.Pool { return p.pool }

// Dialect returns Postgres.
func (p *PostgresDB) Dialect() Dialect { return Postgres }

// Close closes the pool.
func (p *PostgresDB) Close() error {
	p.pool.Close()
	return nil
}

// Exec implements Queryer.
func (p *PostgresDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return pgExec(ctx, p.pool, query, args)
}

// Query implements Queryer.
func (p *PostgresDB) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return pgQuery(ctx, p.pool, query, args)
}

// QueryRow implements Queryer.
func (p *PostgresDB) QueryRow(ctx context.Context, query string, args ...any) Row {
	return pgRow{p.pool.QueryRow(ctx, rebind(query), args...)}
}

// Begin starts a transaction.
func (p *PostgresDB) Begin(ctx context.Context) (Tx, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return pgTx{tx}, nil
}

// pgConn is what a pool and a transaction share.
type pgConn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func pgExec(ctx context.Context, c pgConn, query string, args []any) (int64, error) {
	tag, err := c.Exec(ctx, rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func pgQuery(ctx context.Context, c pgConn, query string, args []any) (Rows, error) {
	rows, err := c.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

type pgTx struct{ tx pgx.Tx }

func (t pgTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return pgExec(ctx, t.tx, query, args)
}

func (t pgTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return pgQuery(ctx, t.tx, query, args)
}

func (t pgTx) QueryRow(ctx context.Context, query string, args ...any) Row {
	return pgRow{t.tx.QueryRow(ctx, rebind(query), args...)}
}

func (t pgTx) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t pgTx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }
func (t pgTx) Native() any                        { return t.tx }

type pgRows struct{ rows pgx.Rows }

func (r pgRows) Next() bool             { return r.rows.Next() }
func (r pgRows) Scan(dest ...any) error { return r.rows.Scan(dest...) }
func (r pgRows) Err() error             { return r.rows.Err() }
func (r pgRows) Close()                 { r.rows.Close() }

type pgRow struct{ row pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// rebind rewrites ? placeholders as $1, $2, …, leaving quoted strings
// alone.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	quoted := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
