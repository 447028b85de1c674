package metrics

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/patchloop/patchloop/internal/patch"
	_ "github.com/patchloop/patchloop/internal/patch/apt" // the engine needs a patcher
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
	"github.com/patchloop/patchloop/internal/workflow"
)

// engine returns a real workflow engine on SQLite (not started) and the
// vulnerability database directory it would use (empty).
func engine(t *testing.T) (*workflow.Engine, string) {
	t.Helper()
	dir := t.TempDir()
	e, err := workflow.New(context.Background(), workflow.Options{
		Database:  filepath.Join(dir, "patchloop.db"),
		Registry:  registry.New(),
		VulnDBDir: filepath.Join(dir, "db"),
		Patch:     patch.Config{DataDir: dir},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e, filepath.Join(dir, "db")
}

func TestTransportCountsErrorsByHost(t *testing.T) {
	t.Parallel()
	m := New(nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusNotFound) // an answer, not an error
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	c := &http.Client{Transport: m.Transport("mirror", nil)}
	for _, u := range []string{srv.URL + "/busy", srv.URL + "/broken", srv.URL + "/missing", "http://" + closed + "/x"} {
		if resp, err := c.Get(u); err == nil {
			resp.Body.Close()
		}
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if got := testutil.ToFloat64(m.transport.WithLabelValues("mirror", host)); got != 2 {
		t.Errorf("errors of %s = %v, want 2 (429 and 502)", host, got)
	}
	if got := testutil.ToFloat64(m.transport.WithLabelValues("mirror", closed)); got != 1 {
		t.Errorf("errors of %s = %v, want 1 (connection refused)", closed, got)
	}
}

func TestMetricsNeedToken(t *testing.T) {
	t.Parallel()
	e, dbDir := engine(t)
	m := New(nil)
	m.Observe(e, dbDir)
	h := m.Handler("the-token-0123456789")
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Bearer the-token-0123456789": 200} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Authorization %q: HTTP %d, want %d", auth, w.Code, want)
		}
		if want == 200 && !strings.Contains(w.Body.String(), "patchloop_vulndb_present 0") {
			t.Errorf("without a database: want patchloop_vulndb_present 0 in\n%s", w.Body)
		}
	}
}

func TestReady(t *testing.T) {
	t.Parallel()
	e, dbDir := engine(t)
	built := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	ready := func(now time.Time) (int, Readiness) {
		t.Helper()
		w := httptest.NewRecorder()
		Ready(e, ReadyOptions{VulnDBDir: dbDir, MaxDBAge: 48 * time.Hour, Now: func() time.Time { return now }}).
			ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		var res Readiness
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatalf("/readyz body %q: %v", w.Body, err)
		}
		return w.Code, res
	}
	if code, res := ready(built); code != 503 || !strings.Contains(res.Reason, "no vulnerability database in "+dbDir) {
		t.Errorf("no database: %d %+v", code, res)
	}
	if err := vulndbtest.Write(dbDir, vulndbtest.Database{Metadata: vulndb.Metadata{UpdatedAt: built, NextUpdate: built.Add(6 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if code, res := ready(built.Add(time.Hour)); code != 200 || res.Status != "ready" || res.Reason != "" {
		t.Errorf("fresh database: %d %+v", code, res)
	}
	if code, res := ready(built.Add(49 * time.Hour)); code != 503 || !strings.Contains(res.Reason, "was built 49h0m0s ago") {
		t.Errorf("stale database: %d %+v", code, res)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, res := ready(built.Add(time.Hour)); code != 503 || !strings.Contains(res.Reason, "database does not answer") {
		t.Errorf("closed engine: %d %+v", code, res)
	}
}
