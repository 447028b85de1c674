package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/patch"
	_ "github.com/patchloop/patchloop/internal/patch/apt" // registers the apt patcher
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/server"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/workflow"
)

const token = "client-test-token-0123456789-abcdefghij"

// newEngine opens the workflow engine on SQLite in a temporary directory,
// with an empty vulnerability database; its scheduler and workers are not
// started, as these tests only drive its Service methods.
func newEngine(t *testing.T) *workflow.Engine {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := vulndbtest.Write(db, vulndbtest.Database{}); err != nil {
		t.Fatal(err)
	}
	e, err := workflow.New(context.Background(), workflow.Options{
		Database:  filepath.Join(dir, "patchloop.db"),
		Registry:  registry.New(),
		VulnDBDir: db,
		Patch:     patch.Config{DataDir: dir},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// start serves svc and returns a client of it.
func start(t *testing.T, svc workflow.Service) *Client {
	t.Helper()
	srv, err := server.New(svc, token, server.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := New(hs.URL, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameJSON fails the test unless a and b encode alike.
func sameJSON(t *testing.T, what string, a, b any) {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("%s differs across HTTP:\nclient %s\nengine %s", what, ja, jb)
	}
}

func compact(t *testing.T, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRoundTripWithEngine(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	e := newEngine(t)
	c := start(t, e)
	cfg := []byte("{\"version\": \"v1\", \"tag-convention\": \"floating\",\n \"repositories\": [{\"repository\": \"app\", \"tags\": [\"*\"]},]}")

	created, err := c.Create(ctx, workflow.CreateRequest{Registry: host, Type: workflow.TypeContinuousPatchV1,
		ConfigName: "c.json", Config: cfg, Schedule: "7d", By: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := e.Get(ctx, host, workflow.TypeContinuousPatchV1)
	if err != nil {
		t.Fatal(err)
	}
	// Create answers before the store keeps times to the microsecond; the
	// rest must match.
	if created.ConfigDigest != direct.ConfigDigest || compact(t, created.Config) != compact(t, direct.Config) ||
		created.NextRunAt.Sub(direct.NextRunAt).Abs() >= time.Microsecond {
		t.Fatalf("created %s %s %v\nstored  %s %s %v", created.ConfigDigest, created.Config, created.NextRunAt, direct.ConfigDigest, direct.Config, direct.NextRunAt)
	}
	if created.ScheduleText != direct.ScheduleText || created.ScheduleText != "7d" || created.CreatedBy != "alice" || created.TagConvention != "floating" {
		t.Fatalf("created: %+v", created)
	}
	got, err := c.Get(ctx, host, workflow.TypeContinuousPatchV1)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "workflow", got, direct)

	updated, err := c.Update(ctx, workflow.UpdateRequest{Registry: host, Type: workflow.TypeContinuousPatchV1, Schedule: "2d", By: "bob"})
	if err != nil || updated.ScheduleText != "2d" || updated.UpdatedBy != "bob" {
		t.Fatalf("update: %+v %v", updated, err)
	}
	images, err := c.Images(ctx, host, "failed")
	if err != nil || images == nil || len(images) != 0 {
		t.Fatalf("images: %#v %v", images, err)
	}
	runs, err := c.Runs(ctx, workflow.RunFilter{Registry: host, Task: workflow.TaskPatch, Status: workflow.StatusFailed, Top: 10})
	if err != nil || runs == nil || len(runs) != 0 {
		t.Fatalf("runs: %#v %v", runs, err)
	}
	if n, err := c.CancelRuns(ctx, host, workflow.TypeContinuousPatchV1); n != 0 || err != nil {
		t.Fatalf("cancel: %d %v", n, err)
	}
	if _, err := c.Delete(ctx, host, workflow.TypeContinuousPatchV1); err != nil {
		t.Fatal(err)
	}
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestEngineErrorsCrossHTTP checks that every error the engine returns
// arrives with the same message and wrapping the same sentinel.
func TestEngineErrorsCrossHTTP(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	e := newEngine(t)
	c := start(t, e)
	req := workflow.CreateRequest{Registry: host, Type: workflow.TypeContinuousPatchV1, ConfigName: "c.json",
		Config: []byte(`{"version": "v1", "repositories": [{"repository": "app", "tags": ["*"]}]}`), Schedule: "1d"}
	if _, err := e.Create(ctx, req); err != nil {
		t.Fatal(err)
	}
	badConfig := req
	badConfig.Registry, badConfig.Config = "other.example:5000", []byte("{\"version\": \"v1\",\n \"repositories\": [{\"tags\": []}]}")
	badSchedule := req
	badSchedule.Registry, badSchedule.Schedule = "other.example:5000", "31d"
	cases := []struct {
		name     string
		sentinel error
		call     func(workflow.Service) error
	}{
		{"exists", workflow.ErrExists, func(s workflow.Service) error { _, err := s.Create(ctx, req); return err }},
		{"bad config", workflow.ErrInvalidInput, func(s workflow.Service) error { _, err := s.Create(ctx, badConfig); return err }},
		{"bad schedule", workflow.ErrInvalidInput, func(s workflow.Service) error { _, err := s.Create(ctx, badSchedule); return err }},
		{"bad status", workflow.ErrInvalidInput, func(s workflow.Service) error { _, err := s.Images(ctx, host, "sideways"); return err }},
		{"no workflow", workflow.ErrNotFound, func(s workflow.Service) error {
			_, err := s.Get(ctx, "other.example:5000", workflow.TypeContinuousPatchV1)
			return err
		}},
		{"no workflow to update", workflow.ErrNotFound, func(s workflow.Service) error {
			_, err := s.Update(ctx, workflow.UpdateRequest{Registry: "other.example:5000", Type: workflow.TypeContinuousPatchV1, Schedule: "2d"})
			return err
		}},
		{"no run", workflow.ErrRunNotFound, func(s workflow.Service) error { _, err := s.RunLog(ctx, "nope12"); return err }},
	}
	for _, tc := range cases {
		direct, remote := tc.call(e), tc.call(c)
		var apiErr *APIError
		if !errors.Is(direct, tc.sentinel) || !errors.Is(remote, tc.sentinel) || !errors.As(remote, &apiErr) || remote.Error() != direct.Error() {
			t.Errorf("%s: engine %v; client %v", tc.name, direct, remote)
		}
	}
	if _, err := c.Create(ctx, badConfig); err == nil || !strings.Contains(err.Error(), "c.json:2:") {
		t.Errorf("bad config lost its position: %v", err)
	}
}

func TestWrongToken(t *testing.T) {
	srv, err := server.New(newEngine(t), token, server.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := New(hs.URL, "another-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Runs(context.Background(), workflow.RunFilter{})
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), EnvToken) {
		t.Fatalf("got %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := New(addr, token)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "r", workflow.TypeContinuousPatchV1)
	want := "cannot reach the Patchloop service at http://" + addr + ": start it with `patchloop serve`"
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v\nwant it to contain %q", err, want)
	}
}

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvServer, "")
	t.Setenv(EnvToken, "")
	if _, err := FromEnv(dir); err == nil || !strings.Contains(err.Error(), "patchloop serve --data-dir") {
		t.Fatalf("no token: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("file-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(dir)
	if err != nil || c.token != "file-token-0123456789" || c.BaseURL() != DefaultServer {
		t.Fatalf("from file: %+v %v", c, err)
	}
	t.Setenv(EnvServer, "10.0.0.1:9000")
	t.Setenv(EnvToken, "env-token-0123456789")
	c, err = FromEnv(dir)
	if err != nil || c.token != "env-token-0123456789" || c.BaseURL() != "http://10.0.0.1:9000" {
		t.Fatalf("from env: %+v %v", c, err)
	}
	if _, err := New("ftp://x", token); err == nil {
		t.Error("ftp URL accepted")
	}
}
