package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/patchloop/patchloop/internal/store"
)

// isPostgres reports whether a Database option names PostgreSQL.
func isPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// openDatabase opens the database, migrates Patchloop's and River's tables
// and builds the River client over it.
func openDatabase(ctx context.Context, database string, cfg *river.Config, opts Options) (store.DB, jobQueue, error) {
	if isPostgres(database) {
		return openPostgres(ctx, database, cfg, opts)
	}
	return openSQLite(ctx, strings.TrimPrefix(database, "sqlite://"), cfg, opts)
}

// errLocked says another engine has the SQLite file open.
var errLocked = errors.New("in use by another process: a SQLite database serves one engine (use PostgreSQL for several)")

// lockedDB is a SQLite database with the lock that makes this engine its
// only user: what it finds running at start is then an orphan.
type lockedDB struct {
	*store.SQLiteDB
	lock io.Closer
}

// Close closes the database, then drops the lock.
func (l lockedDB) Close() error { return errors.Join(l.SQLiteDB.Close(), l.lock.Close()) }

func openSQLite(ctx context.Context, path string, cfg *river.Config, opts Options) (store.DB, jobQueue, error) {
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite database %s: %w", path, err)
	}
	sdb, err := store.OpenSQLite(ctx, path)
	if err != nil {
		_ = lock.Close()
		return nil, nil, err
	}
	db := lockedDB{SQLiteDB: sdb, lock: lock}
	if err := store.New(db).Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	// SQLite cannot notify idle workers of new jobs: they poll.
	cfg.PollOnly = true
	q, err := newRiverQueue(ctx, riversqlite.New(sdb.SQL()), cfg, opts.Logger)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, q, nil
}

// riverMigrationLock is the advisory lock key that keeps processes
// starting together from running River's migrations at the same time
// ("river mi" in ASCII).
const riverMigrationLock = 0x7269766572206d69

func openPostgres(ctx context.Context, dsn string, cfg *river.Config, opts Options) (store.DB, jobQueue, error) {
	db, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	q, err := migratePostgres(ctx, db, cfg, opts)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, q, nil
}

// migratePostgres runs both migrations while holding a session advisory
// lock on one pooled connection; River's migrator uses other connections.
func migratePostgres(ctx context.Context, db *store.PostgresDB, cfg *river.Config, opts Options) (jobQueue, error) {
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(riverMigrationLock)); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(riverMigrationLock))
	}()
	if err := store.New(db).Migrate(ctx); err != nil {
		return nil, err
	}
	return newRiverQueue(ctx, riverpgxv5.New(db.Pool()), cfg, opts.Logger)
}
