package cli

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/workflow"
)

// engineOptions is what serve gives the workflow engine.
type engineOptions struct {
	DataDir     string
	VulnDBDir   string // default <DataDir>/db
	DatabaseURL string // empty: SQLite in DataDir
	Concurrency int
	MaxImages   int
	IgnoreFile  string // serve --ignorefile
	Registry    *registry.Client
	Patch       patch.Config
	Logger      *slog.Logger
	// HeartbeatInterval and LeaseTimeout tune crash recovery (see
	// workflow.Options); zero means the default.
	HeartbeatInterval, LeaseTimeout time.Duration
	// UpdateDB brings the vulnerability database in DataDir up to date
	// (or does nothing with --skip-db-update).
	UpdateDB func(context.Context) error
	// Signers, Attach and RequireSignature are serve's signing flags
	// (see workflow.Options).
	Signers          []sign.Signer
	Attach           bool
	RequireSignature []sign.Verifier
}

// startEngine tries to update the vulnerability database, opens the workflow
// engine on its database, starts its scheduler and workers, and returns it
// with the function that stops it.
func startEngine(ctx context.Context, o engineOptions) (workflow.Service, func(context.Context) error, error) {
	if o.UpdateDB != nil {
		// The service keeps running without a database: scans fail with a
		// clear message until one is installed, and every cycle tries again.
		if err := o.UpdateDB(ctx); err != nil {
			o.Logger.WarnContext(ctx, "vulnerability database update failed; it is retried before every cycle", "err", err)
		}
	}
	database := o.DatabaseURL
	if database == "" {
		database = filepath.Join(o.DataDir, "patchloop.db")
	}
	e, err := workflow.New(ctx, workflow.Options{
		Database:     database,
		Registry:     o.Registry,
		VulnDBDir:    cmp.Or(o.VulnDBDir, dbDir(o.DataDir)),
		UpdateDB:     o.UpdateDB,
		ScanCacheDir: cacheDir(o.DataDir),
		Patch:        o.Patch,
		MaxImages:    o.MaxImages,
		IgnoreFile:   o.IgnoreFile,
		ScanWorkers:  o.Concurrency,
		PatchWorkers: max(1, o.Concurrency/2),
		Logger:       o.Logger,

		Signers:          o.Signers,
		Attach:           o.Attach,
		RequireSignature: o.RequireSignature,

		HeartbeatInterval: o.HeartbeatInterval,
		LeaseTimeout:      o.LeaseTimeout,
	})
	if err != nil {
		return nil, nil, err
	}
	if err := e.Start(ctx); err != nil {
		return nil, nil, errors.Join(err, e.Close(context.WithoutCancel(ctx)))
	}
	return e, e.Close, nil
}
