package workflow

import (
	"context"
	"errors"

	"github.com/patchloop/patchloop/internal/vulndb"
)

// openVulnDB opens the vulnerability database for one task, which closes
// it when done. Opening per task (a read-only bbolt open: cheap) means a
// database replaced by an update is used from the next task on, without a
// restart. A missing or unusable database fails the task at once: retrying
// would not help, and the error says to run `patchloop db update`.
func (e *Engine) openVulnDB(ctx context.Context) (*vulndb.DB, error) {
	db, err := vulndb.Open(ctx, e.opts.VulnDBDir)
	if errors.Is(err, vulndb.ErrNoDatabase) {
		return nil, permanent(err)
	}
	return db, err
}

// refreshVulnDB brings the vulnerability database up to date before a
// cycle, when the engine was given a way to (Options.UpdateDB). Updates are
// serialized; a failed one is logged and the cycle scans with the database
// it has.
func (t *task) refreshVulnDB(ctx context.Context) {
	e := t.e
	if e.opts.UpdateDB == nil {
		return
	}
	e.dbUpdate.Lock()
	defer e.dbUpdate.Unlock()
	if err := e.opts.UpdateDB(ctx); err != nil {
		t.log.WarnContext(ctx, "vulnerability database update failed; scanning with the database in place", "err", err)
	}
}
