package httpcache

import (
	"context"
	"errors"
	"sync"
)

// Group runs one call per key at a time: concurrent callers with
// the same key wait for the running call and share its result.
type Group[T any] struct {
	mu    sync.Mutex
	calls map[string]*flightCall[T]
}

// flightCall is one running call and, once done, its result.
type flightCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// Do runs fn for key unless a call for key is already running, in which
// case it waits for that call. A waiter whose own context is still live
// starts over when the running call failed only because its caller's
// context ended.
func (g *Group[T]) Do(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	for {
		g.mu.Lock()
		if c, ok := g.calls[key]; ok {
			g.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				var zero T
				return zero, ctx.Err()
			}
			if isContextError(c.err) && ctx.Err() == nil {
				continue
			}
			return c.val, c.err
		}
		if g.calls == nil {
			g.calls = map[string]*flightCall[T]{}
		}
		c := &flightCall[T]{done: make(chan struct{})}
		g.calls[key] = c
		g.mu.Unlock()

		c.val, c.err = fn(ctx)
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
		return c.val, c.err
	}
}

// isContextError reports whether err says a context ended.
func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
