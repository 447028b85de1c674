package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"riverqueue.com/riverui"
)

// jobQueue is what the engine needs of River, whatever the database: the
// SQLite driver works on *sql.Tx, the PostgreSQL one on pgx.Tx.
type jobQueue interface {
	// ui returns River's UI over the queue, its paths under prefix.
	ui(prefix string, log *slog.Logger) (*riverui.Handler, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	// insertTx queues jobs inside a store transaction; native is the
	// transaction's Tx.Native().
	insertTx(ctx context.Context, native any, jobs []river.InsertManyParams) error
	// cancelTagged cancels every unfinished job carrying tag and returns
	// how many it canceled.
	cancelTagged(ctx context.Context, tag string) (int, error)
}

// riverQueue is a jobQueue over one River client.
type riverQueue[TTx any] struct {
	client *river.Client[TTx]
}

// newRiverQueue migrates River's tables and builds the client.
func newRiverQueue[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg *river.Config, log *slog.Logger) (*riverQueue[TTx], error) {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: riverLogger(log)})
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return &riverQueue[TTx]{client: client}, nil
}

func (q *riverQueue[TTx]) start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start river client: %w", err)
	}
	return nil
}

func (q *riverQueue[TTx]) stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("stop river client: %w", err)
	}
	return nil
}

func (q *riverQueue[TTx]) insertTx(ctx context.Context, native any, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	tx, ok := native.(TTx)
	if !ok {
		return fmt.Errorf("queue jobs: transaction is a %T", native)
	}
	if _, err := q.client.InsertManyTx(ctx, tx, jobs); err != nil {
		return fmt.Errorf("queue jobs: %w", err)
	}
	return nil
}

// unfinished are the job states cancelTagged cancels.
var unfinished = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

func (q *riverQueue[TTx]) cancelTagged(ctx context.Context, tag string) (int, error) {
	params := river.NewJobListParams().TagsAll(tag).States(unfinished...).First(500)
	canceled := 0
	for {
		res, err := q.client.JobList(ctx, params)
		if err != nil {
			return canceled, fmt.Errorf("list jobs: %w", err)
		}
		for _, job := range res.Jobs {
			if _, err := q.client.JobCancel(ctx, job.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
				return canceled, fmt.Errorf("cancel job %d: %w", job.ID, err)
			}
			canceled++
		}
		if len(res.Jobs) < 500 || res.LastCursor == nil {
			return canceled, nil
		}
		params = params.After(res.LastCursor)
	}
}

// retryPolicy waits base before the second attempt and four times longer
// before each later one, up to an hour.
type retryPolicy struct {
	base time.Duration
}

// NextRetry implements river.ClientRetryPolicy.
func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := p.base
	for i := 1; i < job.Attempt && d < time.Hour; i++ {
		d *= 4
	}
	return time.Now().Add(min(d, time.Hour))
}

func (q *riverQueue[TTx]) ui(prefix string, log *slog.Logger) (*riverui.Handler, error) {
	return riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(q.client, nil),
		Logger:    log,
		Prefix:    prefix,
	})
}
