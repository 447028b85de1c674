package httpcache

import (
	"context"
	"testing"
)

func TestFlightGroupWaiterRetriesAfterLeaderCanceled(t *testing.T) {
	var g Group[string]
	leaderCtx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	leaderDone := make(chan error, 1)
	go func() {
		_, err := g.Do(leaderCtx, "k", func(ctx context.Context) (string, error) {
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		})
		leaderDone <- err
	}()
	<-started
	waiter := make(chan string, 1)
	go func() {
		v, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "fresh", nil })
		if err != nil {
			v = err.Error()
		}
		waiter <- v
	}()
	cancel()
	if err := <-leaderDone; err != context.Canceled {
		t.Fatalf("leader: %v", err)
	}
	if v := <-waiter; v != "fresh" {
		t.Fatalf("waiter got %q, want a fresh call's result", v)
	}
}
