package workflow

import (
	"context"
	"encoding/json"
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
	// runningSince returns the jobs running since before horizon.
	runningSince(ctx context.Context, horizon time.Time) ([]*rivertype.JobRow, error)
	// jobTx returns a job, nil when there is none, inside a store
	// transaction.
	jobTx(ctx context.Context, native any, id int64) (*rivertype.JobRow, error)
	// rescueTx moves a running job whose attempt began at
	// job.AttemptedAt (and no later one) to state, recording reason as
	// the attempt's error, inside a store transaction.
	rescueTx(ctx context.Context, native any, job *rivertype.JobRow, state rivertype.JobState, reason string) error
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

func (q *riverQueue[TTx]) runningSince(ctx context.Context, horizon time.Time) ([]*rivertype.JobRow, error) {
	exec := q.client.Driver().GetExecutor()
	var out []*rivertype.JobRow
	var after int64
	for {
		jobs, err := exec.JobGetStuck(ctx, &riverdriver.JobGetStuckParams{AfterID: after, Max: 100, StuckHorizon: horizon})
		if err != nil {
			return nil, fmt.Errorf("list running jobs: %w", err)
		}
		out = append(out, jobs...)
		if len(jobs) < 100 {
			return out, nil
		}
		after = jobs[len(jobs)-1].ID
	}
}

// executorTx returns River's executor over a store transaction.
func (q *riverQueue[TTx]) executorTx(native any) (riverdriver.ExecutorTx, error) {
	tx, ok := native.(TTx)
	if !ok {
		return nil, fmt.Errorf("river: transaction is a %T", native)
	}
	return q.client.Driver().UnwrapExecutor(tx), nil
}

func (q *riverQueue[TTx]) jobTx(ctx context.Context, native any, id int64) (*rivertype.JobRow, error) {
	exec, err := q.executorTx(native)
	if err != nil {
		return nil, err
	}
	job, err := exec.JobGetByID(ctx, &riverdriver.JobGetByIDParams{ID: id})
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get job %d: %w", id, err)
	}
	return job, nil
}

func (q *riverQueue[TTx]) rescueTx(ctx context.Context, native any, job *rivertype.JobRow, state rivertype.JobState, reason string) error {
	exec, err := q.executorTx(native)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	errJSON, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: job.Attempt, Error: reason})
	if err != nil {
		return err
	}
	var finalized *time.Time
	if state != rivertype.JobStateAvailable && state != rivertype.JobStateRetryable {
		finalized = &now
	}
	if job.AttemptedAt == nil {
		return fmt.Errorf("rescue job %d: it has no attempt", job.ID)
	}
	_, err = exec.JobRescueMany(ctx, &riverdriver.JobRescueManyParams{
		ID:          []int64{job.ID},
		Error:       [][]byte{errJSON},
		FinalizedAt: []*time.Time{finalized},
		ScheduledAt: []time.Time{now},
		State:       []string{string(state)},
		// Only the attempt that began at AttemptedAt: River keeps
		// attempted_at to the millisecond on SQLite.
		StuckHorizon: job.AttemptedAt.Add(time.Millisecond),
	})
	if err != nil {
		return fmt.Errorf("rescue job %d: %w", job.ID, err)
	}
	return nil
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
