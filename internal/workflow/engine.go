package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/store"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// Engine runs continuous patching workflows and implements Service: it
// stores workflows and runs in Patchloop's tables, claims due cycles and
// runs the trigger, scan and patch tasks as River jobs. Several engines
// (processes) may share one PostgreSQL database; a SQLite database serves
// one process.
type Engine struct {
	opts      Options
	log       *slog.Logger
	clock     Clock
	db        store.DB
	store     *store.Store
	queue     jobQueue
	dbUpdate  sync.Mutex // serializes Options.UpdateDB
	scanCache ospkg.Cache
	patchers  patch.Patchers

	wake    chan struct{}
	running sync.Map // *task → workflow ID, the tasks running here
	// swept is when the last completed sweep began (Unix nanoseconds).
	swept atomic.Int64

	mu        sync.Mutex
	started   bool
	stopLoop  context.CancelFunc
	loopDone  chan struct{}
	sweepDone chan struct{}
	closed    bool
}

var _ Service = (*Engine)(nil)

// New opens the database, brings Patchloop's and River's tables up to
// date and returns an engine. Service methods work at once; tasks and the
// scheduler run between Start and Stop. Close releases the engine.
func New(ctx context.Context, opts Options) (*Engine, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, log: opts.Logger, clock: opts.Clock, wake: make(chan struct{}, 1)}
	if err := e.openDeps(ctx); err != nil {
		return nil, err
	}
	db, q, err := openDatabase(ctx, opts.Database, e.riverConfig(), opts)
	if err != nil {
		return nil, err
	}
	e.db, e.store, e.queue = db, store.New(db), q
	return e, nil
}

// openDeps opens what the tasks scan and patch with.
func (e *Engine) openDeps(ctx context.Context) error {
	e.patchers = e.opts.Patchers
	if len(e.patchers) == 0 {
		cfg := e.opts.Patch
		if cfg.Logger == nil {
			cfg.Logger = e.log
		}
		ps, err := patch.New(ctx, cfg)
		if err != nil {
			return fmt.Errorf("workflow engine: %w", err)
		}
		e.patchers = ps
	}
	if e.opts.ScanCacheDir != "" {
		c, err := ospkg.NewDirCache(e.opts.ScanCacheDir)
		if err != nil {
			return fmt.Errorf("workflow engine: scan cache: %w", err)
		}
		e.scanCache = c
	}
	if _, err := vulndb.ReadMetadata(e.opts.VulnDBDir); err != nil {
		e.log.WarnContext(ctx, "no usable vulnerability database yet: scans fail until `patchloop db update`, or `patchloop db import FILE` offline, installs one", "dir", e.opts.VulnDBDir, "err", err)
	}
	return nil
}

// riverConfig is the River client configuration: one queue per task with
// its own worker count, few attempts, our retry backoff.
func (e *Engine) riverConfig() *river.Config {
	o := e.opts
	workers := river.NewWorkers()
	river.AddWorker(workers, &triggerWorker{e: e})
	river.AddWorker(workers, &scanWorker{e: e})
	river.AddWorker(workers, &patchWorker{e: e})
	longest := max(o.TriggerTimeout, o.ScanTimeout, o.PatchTimeout)
	return &river.Config{
		Queues: map[string]river.QueueConfig{
			QueueTrigger: {MaxWorkers: o.TriggerWorkers},
			QueueScan:    {MaxWorkers: o.ScanWorkers},
			QueuePatch:   {MaxWorkers: o.PatchWorkers},
		},
		Workers:              workers,
		MaxAttempts:          o.MaxAttempts,
		RetryPolicy:          retryPolicy{base: o.RetryBackoff},
		FetchPollInterval:    o.PollInterval,
		FetchCooldown:        min(o.PollInterval, 10*time.Millisecond),
		RescueStuckJobsAfter: longest + time.Hour,
		SoftStopTimeout:      o.StopTimeout,
		Logger:               riverLogger(e.log),
		TestOnly:             o.testOnly,
	}
}

// Start starts the task workers, the scheduler and the sweeper of runs
// whose worker died. A cycle that came due while no engine ran is started
// at once (only the latest one). On SQLite, which one process uses, the
// runs and jobs a crashed process left running are queued again first.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("workflow engine: closed")
	}
	if e.started {
		return nil
	}
	if e.db.Dialect() == store.SQLite {
		if err := e.sweep(ctx, 0); err != nil {
			return fmt.Errorf("workflow engine: recover runs left running: %w", err)
		}
	}
	if err := e.queue.start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stopLoop, e.loopDone, e.sweepDone, e.started = cancel, make(chan struct{}), make(chan struct{}), true
	go e.schedulerLoop(loopCtx, e.loopDone)
	go e.sweepLoop(loopCtx, e.sweepDone)
	return nil
}

// Stop stops the scheduler and the workers. Running tasks get
// Options.StopTimeout to finish; those still running are then canceled,
// queued again and resumed by the next engine to start.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started {
		return nil
	}
	e.started = false
	e.stopLoop()
	<-e.loopDone
	<-e.sweepDone
	return e.queue.stop(ctx)
}

// Close stops the engine if it runs and releases its database.
func (e *Engine) Close(ctx context.Context) error {
	stopErr := e.Stop(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return stopErr
	}
	e.closed = true
	return errors.Join(stopErr, e.db.Close())
}

// kick asks the scheduler to look for due cycles now.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// QueueUI returns River's own UI over the engine's queue (jobs, queues,
// retries), its pages and API under prefix (for example "/river"), on
// SQLite as on PostgreSQL. Its background work runs until ctx ends. Mount
// it only behind a login: it shows every job's arguments and can cancel,
// retry and delete jobs.
func (e *Engine) QueueUI(ctx context.Context, prefix string) (http.Handler, error) {
	h, err := e.queue.ui(prefix, riverLogger(e.log))
	if err != nil {
		return nil, fmt.Errorf("queue view: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("queue view: %w", err)
	}
	return h, nil
}
