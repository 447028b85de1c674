package registry

import (
	"github.com/patchloop/patchloop/internal/logctx"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy bounds how often and how patiently a request is retried.
type RetryPolicy struct {
	// Attempts is the total number of tries, the first included (default 4).
	Attempts int
	// Base is the first backoff; each retry doubles it (default 250ms).
	Base time.Duration
	// Max caps one wait, Retry-After included (default 30s).
	Max time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 4
	}
	if p.Base <= 0 {
		p.Base = 250 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	return p
}

// retryTransport retries requests that failed with a network error, 429 or a
// 5xx status, waiting with exponential backoff or as long as Retry-After
// asks (capped). Requests whose body cannot be replayed are sent once.
type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
	log    *slog.Logger
}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return true
	}
	return false
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("retry %s %s: %w", req.Method, req.URL.Redacted(), err)
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := t.next.RoundTrip(r)
		last := attempt >= t.policy.Attempts || !replayable
		var wait time.Duration
		switch {
		case err != nil:
			if last || !transient(err) || ctx.Err() != nil {
				return nil, err
			}
			wait = t.backoff(attempt)
			logctx.From(ctx, t.log).InfoContext(ctx, "registry request failed, retrying", "method", req.Method, "url", req.URL.Redacted(), "attempt", attempt, "wait", wait, "err", err)
		case retryable(resp.StatusCode):
			if last {
				return resp, nil
			}
			wait = t.backoff(attempt)
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				wait = min(ra, t.policy.Max)
			}
			logctx.From(ctx, t.log).InfoContext(ctx, "registry busy, retrying", "method", req.Method, "url", req.URL.Redacted(), "status", resp.StatusCode, "attempt", attempt, "wait", wait)
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		default:
			return resp, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.policy.Base << (attempt - 1)
	if d <= 0 || d > t.policy.Max {
		d = t.policy.Max
	}
	return d
}

// transient reports whether a transport error is worth another try.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// retryAfter parses a Retry-After header: delta seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
