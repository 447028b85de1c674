package store

import (
	"context"
	"fmt"
	"time"
)

// migrations are applied in order, each once; append, never edit. The SQL
// is the common subset of SQLite and PostgreSQL.
var migrations = [][]string{
	1: {
		`CREATE TABLE patchloop_workflow (
			id            TEXT PRIMARY KEY,
			registry      TEXT NOT NULL,
			type          TEXT NOT NULL,
			schedule      TEXT NOT NULL,
			config        TEXT NOT NULL,
			config_digest TEXT NOT NULL DEFAULT '',
			created_at    BIGINT NOT NULL,
			created_by    TEXT NOT NULL DEFAULT '',
			updated_at    BIGINT NOT NULL,
			updated_by    TEXT NOT NULL DEFAULT '',
			anchor_at     BIGINT NOT NULL,
			anchor_cycle  BIGINT NOT NULL,
			first_cycle   BIGINT NOT NULL,
			next_run_at   BIGINT NOT NULL,
			UNIQUE (registry, type)
		)`,
		`CREATE INDEX patchloop_workflow_next_run ON patchloop_workflow (next_run_at)`,
		`CREATE TABLE patchloop_cycle (
			workflow_id TEXT NOT NULL,
			cycle       BIGINT NOT NULL,
			due_at      BIGINT NOT NULL,
			started_at  BIGINT NOT NULL,
			started_by  TEXT NOT NULL DEFAULT '',
			canceled_at BIGINT,
			PRIMARY KEY (workflow_id, cycle)
		)`,
		`CREATE TABLE patchloop_run (
			id          TEXT PRIMARY KEY,
			workflow_id TEXT NOT NULL,
			task        TEXT NOT NULL,
			registry    TEXT NOT NULL,
			type        TEXT NOT NULL,
			cycle       BIGINT NOT NULL,
			image       TEXT NOT NULL DEFAULT '',
			parent_id   TEXT NOT NULL DEFAULT '',
			status      TEXT NOT NULL,
			created_at  BIGINT NOT NULL,
			started_at  BIGINT,
			finished_at BIGINT,
			result      TEXT NOT NULL DEFAULT '{}',
			error       TEXT NOT NULL DEFAULT '',
			attempts    BIGINT NOT NULL DEFAULT 0,
			UNIQUE (workflow_id, task, image, cycle)
		)`,
		`CREATE INDEX patchloop_run_registry_created ON patchloop_run (registry, created_at)`,
		`CREATE INDEX patchloop_run_workflow_status ON patchloop_run (workflow_id, status)`,
		`CREATE INDEX patchloop_run_registry_status ON patchloop_run (registry, status)`,
		`CREATE INDEX patchloop_run_parent ON patchloop_run (parent_id)`,
		`CREATE INDEX patchloop_run_registry_image ON patchloop_run (registry, task, image, status)`,
		`CREATE TABLE patchloop_run_log (
			run_id TEXT NOT NULL,
			seq    BIGINT NOT NULL,
			at     BIGINT NOT NULL,
			line   TEXT NOT NULL,
			PRIMARY KEY (run_id, seq)
		)`,
	},
	// 2: leases. The attempt running a run holds it (owner) and renews
	// heartbeat_at; job_id is its River job; pushing is the result a
	// patch is about to push, so a retry can tell whether it landed.
	2: {
		`ALTER TABLE patchloop_run ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE patchloop_run ADD COLUMN heartbeat_at BIGINT`,
		`ALTER TABLE patchloop_run ADD COLUMN job_id BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE patchloop_run ADD COLUMN pushing TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX patchloop_run_status_heartbeat ON patchloop_run (status, heartbeat_at)`,
	},
}

// migrationLock is the PostgreSQL advisory lock key that serializes
// Patchloop migrations across processes ("patchloo" in ASCII).
const migrationLock = 0x70617463686c6f6f

// Migrate brings Patchloop's tables up to date, in one transaction.
// Processes starting together on PostgreSQL take turns through an
// advisory lock; on SQLite the transaction's write lock does the same.
func (s *Store) Migrate(ctx context.Context) error {
	err := s.InTx(ctx, func(tx *Store, _ any) error {
		if s.db.Dialect() == Postgres {
			if _, err := tx.q.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(migrationLock)); err != nil {
				return err
			}
		}
		if _, err := tx.q.Exec(ctx, `CREATE TABLE IF NOT EXISTS patchloop_migration (
			version    BIGINT PRIMARY KEY,
			applied_at BIGINT NOT NULL
		)`); err != nil {
			return err
		}
		var current int64
		if err := tx.q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM patchloop_migration`).Scan(&current); err != nil {
			return err
		}
		for v := current + 1; v < int64(len(migrations)); v++ {
			for _, stmt := range migrations[v] {
				if _, err := tx.q.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d: %w", v, err)
				}
			}
			if _, err := tx.q.Exec(ctx, `INSERT INTO patchloop_migration (version, applied_at) VALUES (?, ?)`, v, micro(time.Now())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate patchloop tables: %w", err)
	}
	return nil
}
