package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/workflow"
)

// gate holds the first registry request that matches until released, so
// a test can run another call inside a call's window.
type gate struct {
	match    func(*http.Request) bool
	armed    atomic.Bool
	held     chan struct{}
	released chan struct{}
}

func newGate(match func(*http.Request) bool) *gate {
	return &gate{match: match, held: make(chan struct{}), released: make(chan struct{})}
}

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.match(r) && g.armed.CompareAndSwap(true, false) {
			close(g.held)
			<-g.released
		}
		h.ServeHTTP(w, r)
	})
}

// policyRequest matches requests of method to the policy repository's
// manifests.
func policyRequest(method string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == method && strings.Contains(r.URL.Path, "/"+workflow.PolicyRepository+"/manifests/")
	}
}

// statusOf returns the HTTP status an API call answered: 200 for success.
func statusOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return http.StatusOK
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("not an API error: %v", err)
	}
	return apiErr.StatusCode
}

// A workflow deleted while another call works on it gives 404, not 500.
func TestConcurrentChangesOfOneWorkflow(t *testing.T) {
	ctx := context.Background()
	cfg := func(tag string) []byte {
		return []byte(`{"version": "v1", "repositories": [{"repository": "app", "tags": ["` + tag + `"]}]}`)
	}
	typ := workflow.TypeContinuousPatchV1

	t.Run("delete during delete", func(t *testing.T) {
		g := newGate(policyRequest(http.MethodDelete))
		host := registrytest.StartWith(t, g.wrap)
		c := start(t, newEngine(t))
		if _, err := c.Create(ctx, workflow.CreateRequest{Registry: host, Type: typ, ConfigName: "c.json", Config: cfg("*"), Schedule: "1d"}); err != nil {
			t.Fatal(err)
		}
		g.armed.Store(true)
		first := make(chan error, 1)
		go func() { _, err := c.Delete(ctx, host, typ); first <- err }()
		<-g.held
		_, second := c.Delete(ctx, host, typ)
		close(g.released)
		got := []int{statusOf(t, <-first), statusOf(t, second)}
		if !(got[0] == 404 && got[1] == 200) {
			t.Errorf("statuses (held delete, other delete) = %v, want [404 200]", got)
		}
	})

	t.Run("update during delete", func(t *testing.T) {
		g := newGate(policyRequest(http.MethodPut))
		host := registrytest.StartWith(t, g.wrap)
		c := start(t, newEngine(t))
		if _, err := c.Create(ctx, workflow.CreateRequest{Registry: host, Type: typ, ConfigName: "c.json", Config: cfg("*"), Schedule: "1d"}); err != nil {
			t.Fatal(err)
		}
		g.armed.Store(true)
		first := make(chan error, 1)
		go func() {
			_, err := c.Update(ctx, workflow.UpdateRequest{Registry: host, Type: typ, ConfigName: "c.json", Config: cfg("1.0")})
			first <- err
		}()
		<-g.held
		_, deleted := c.Delete(ctx, host, typ)
		close(g.released)
		err := <-first
		got := []int{statusOf(t, err), statusOf(t, deleted)}
		if !(got[0] == 404 && got[1] == 200) || !errors.Is(err, workflow.ErrNotFound) {
			t.Errorf("statuses (held update, delete) = %v (%v), want [404 200]", got, err)
		}
	})

	t.Run("many at once", func(t *testing.T) {
		host := registrytest.Start(t)
		c := start(t, newEngine(t))
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			statuses = map[int]int{}
			bad      []string
		)
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 8 {
					var err error
					switch (w + i) % 3 {
					case 0:
						_, err = c.Create(ctx, workflow.CreateRequest{Registry: host, Type: typ, ConfigName: "c.json", Config: cfg("*"), Schedule: "1d"})
					case 1:
						_, err = c.Update(ctx, workflow.UpdateRequest{Registry: host, Type: typ, ConfigName: "c.json", Config: cfg(fmt.Sprint(w, ".", i))})
					case 2:
						_, err = c.Delete(ctx, host, typ)
					}
					code := http.StatusOK
					var apiErr *APIError
					if errors.As(err, &apiErr) {
						code = apiErr.StatusCode
					} else if err != nil {
						code = -1
					}
					mu.Lock()
					statuses[code]++
					if code != 200 && code != 404 && code != 409 {
						bad = append(bad, fmt.Sprintf("%d: %v", code, err))
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(bad) > 0 {
			t.Errorf("statuses %v; calls that were not 2xx, 404 or 409:\n%s", statuses, strings.Join(bad, "\n"))
		}
	})
}
