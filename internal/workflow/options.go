package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/redact"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/sign"
)

// Defaults of Options.
const (
	DefaultMaxImages         = 10000
	DefaultTriggerWorkers    = 1
	DefaultScanWorkers       = 4
	DefaultPatchWorkers      = 2
	DefaultTriggerTimeout    = 10 * time.Minute
	DefaultScanTimeout       = 15 * time.Minute
	DefaultPatchTimeout      = 30 * time.Minute
	DefaultMaxAttempts       = 3
	DefaultRetryBackoff      = 30 * time.Second
	DefaultSchedulerInterval = 30 * time.Second
	DefaultPollInterval      = time.Second
	DefaultStopTimeout       = 30 * time.Second
	DefaultHeartbeatInterval = 15 * time.Second
	DefaultLeaseTimeout      = 2 * time.Minute
)

// River queue names, one per task, each with its own worker count.
const (
	QueueTrigger = "trigger"
	QueueScan    = "scan"
	QueuePatch   = "patch"
)

// Options configure an Engine: where its state lives and what its tasks
// scan and patch with.
type Options struct {
	// Database is a PostgreSQL URL (postgres://… or postgresql://…) or
	// the path of a SQLite file (optionally written sqlite://path);
	// required.
	Database string
	// Registry reads, scans and pushes images and the config artifact;
	// required.
	Registry *registry.Client
	// VulnDBDir is the vulnerability database directory scans use;
	// required. Each task opens it afresh, so an updated database is used
	// without a restart.
	VulnDBDir string
	// UpdateDB, when set, brings the database in VulnDBDir up to date at
	// the start of every cycle (a failure is logged, not fatal).
	UpdateDB func(context.Context) error
	// ScanCacheDir, when set, caches image inventories by layer, so
	// rescanning an unchanged image reads no layer.
	ScanCacheDir string
	// Patch configures the registered patchers (patch.New): their
	// download directory, mirrors and keyrings per package manager.
	// Patch.DataDir is required unless Patchers is set.
	Patch patch.Config
	// Patchers, when set, replace the patchers built from Patch.
	Patchers patch.Patchers
	// WorkDir holds temporary patch files; empty means the system's
	// temporary directory.
	WorkDir string
	// IgnoreFile, when set, is an ignore file in Trivy's .trivyignore
	// format (serve --ignorefile) that every scan and patch task reads
	// anew: the IDs its lines in force name are neither counted as fixable
	// nor patched. A missing or malformed file fails the task.
	IgnoreFile string
	// MaxImages fails a trigger whose config selects more images
	// (default DefaultMaxImages).
	MaxImages int
	// Worker counts of the trigger, scan and patch queues.
	TriggerWorkers, ScanWorkers, PatchWorkers int
	// Per-task timeouts; a task running longer has its context canceled
	// and counts as a failed attempt.
	TriggerTimeout, ScanTimeout, PatchTimeout time.Duration
	// MaxAttempts bounds the attempts of a task that fails with a
	// transient error (registry, mirror) (default 3).
	MaxAttempts int
	// RetryBackoff is the wait before the second attempt; each later one
	// waits four times longer, up to an hour (default 30 s).
	RetryBackoff time.Duration
	// SchedulerInterval is how often due cycles are looked for (default
	// 30 s).
	SchedulerInterval time.Duration
	// PollInterval is how often idle workers look for new jobs where the
	// database cannot notify them (SQLite) (default 1 s).
	PollInterval time.Duration
	// StopTimeout is how long Stop lets running tasks finish before
	// canceling them; canceled tasks are queued again and resume at the
	// next start (default 30 s).
	StopTimeout time.Duration
	// HeartbeatInterval is how often a running task renews the lease on
	// its run, and how often every engine looks for lapsed leases
	// (default 15 s).
	HeartbeatInterval time.Duration
	// LeaseTimeout is how old a running task's last heartbeat may get
	// before its worker is presumed dead: any engine then queues the run
	// again (its River job becomes available) or fails it when no attempt
	// is left. A task that cannot renew its lease for half as long stops
	// itself, so that a run never has two live attempts (default 2 min;
	// at least three heartbeats).
	LeaseTimeout time.Duration
	// Signers sign every patched image after its push, and its
	// attachments (docs/signing.md); none leaves them unsigned.
	Signers []sign.Signer
	// Attach pushes the OpenVEX document, SBOMs and scan reports of
	// every patched image as referrers of it (package publish).
	Attach bool
	// RequireSignature is the verify-before-patch policy: when set, an
	// original that no verifier accepts is skipped with the reason, never
	// patched.
	RequireSignature []sign.Verifier
	// Clock is the scheduler's clock (default SystemClock).
	Clock Clock
	// Name identifies this process in claimed cycles (default
	// hostname:pid).
	Name string
	// Logger receives the engine's logs (default slog.Default()). Task
	// logs also go to each run's log. Passwords of URLs are masked in
	// both (redact.Handler).
	Logger *slog.Logger

	// testOnly speeds River's start and stop in tests.
	testOnly bool
}

// withDefaults checks required fields and fills in defaults.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Database == "" {
		errs = append(errs, errors.New("no database"))
	}
	if o.Registry == nil {
		errs = append(errs, errors.New("no registry client"))
	}
	if o.VulnDBDir == "" {
		errs = append(errs, errors.New("no vulnerability database directory"))
	}
	if len(o.Patchers) == 0 && o.Patch.DataDir == "" {
		errs = append(errs, errors.New("no patcher data directory"))
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("workflow engine: %w", err)
	}
	setDefault(&o.MaxImages, DefaultMaxImages)
	setDefault(&o.TriggerWorkers, DefaultTriggerWorkers)
	setDefault(&o.ScanWorkers, DefaultScanWorkers)
	setDefault(&o.PatchWorkers, DefaultPatchWorkers)
	setDefault(&o.TriggerTimeout, DefaultTriggerTimeout)
	setDefault(&o.ScanTimeout, DefaultScanTimeout)
	setDefault(&o.PatchTimeout, DefaultPatchTimeout)
	setDefault(&o.MaxAttempts, DefaultMaxAttempts)
	setDefault(&o.RetryBackoff, DefaultRetryBackoff)
	setDefault(&o.SchedulerInterval, DefaultSchedulerInterval)
	setDefault(&o.PollInterval, DefaultPollInterval)
	setDefault(&o.StopTimeout, DefaultStopTimeout)
	setDefault(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	setDefault(&o.LeaseTimeout, DefaultLeaseTimeout)
	if o.LeaseTimeout < 3*o.HeartbeatInterval {
		return o, fmt.Errorf("workflow engine: lease timeout %s: want at least three heartbeat intervals (%s)", o.LeaseTimeout, 3*o.HeartbeatInterval)
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Logger = slog.New(redact.Handler(o.Logger.Handler()))
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	return o, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
