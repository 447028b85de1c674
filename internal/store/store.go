package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store reads and writes Patchloop's tables, on the database or inside a
// transaction.
type Store struct {
	db DB
	q  Queryer
}

// New returns a Store over db. Call Migrate before using it.
func New(db DB) *Store { return &Store{db: db, q: db} }

// DB returns the database the store uses.
func (s *Store) DB() DB { return s.db }

// InTx runs fn in a transaction: committed when fn returns nil, rolled
// back otherwise. fn gets a Store bound to the transaction and the
// driver's transaction (see Tx.Native). Calls on s itself inside fn would
// wait for the transaction on SQLite's single connection; use tx.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store, native any) error) (err error) {
	t, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// The original error matters more than a failed rollback.
			_ = t.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(&Store{db: s.db, q: t}, t.Native()); err != nil {
		return err
	}
	if err := t.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// micro converts a time to the stored form, Unix microseconds.
func micro(t time.Time) int64 { return t.UnixMicro() }

// fromMicro converts a stored time back, in UTC.
func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicro converts an optional time to a nullable stored value.
func nullMicro(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// notFound turns ErrNotFound into err and wraps anything else.
func notFound(err error, what string) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}
