// Package server is Patchloop's HTTP JSON API: it exposes a api.Service
// to the CLI (through internal/client) behind a bearer token.
//
// Routes, all JSON except the run log and all under bearer-token auth except
// /healthz, are described in docs/api.md.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/patchloop/patchloop/internal/api"
	"github.com/patchloop/patchloop/internal/config"
)

// MaxRequestBytes bounds a request body: a config of config.MaxSize bytes,
// base64-encoded inside the JSON request, plus room for the other fields.
const MaxRequestBytes = config.MaxSize/3*4 + 4 + 64<<10

// Server serves the API over a api.Service.
type Server struct {
	svc   api.Service
	token []byte
	log   *slog.Logger
	mux   *http.ServeMux
	extra map[string]http.Handler
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets where requests and internal errors are logged (default
// slog.Default()). Tokens and request bodies are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) {
		if l != nil {
			s.log = l
		}
	}
}

// WithHandler serves h at pattern (an http.ServeMux pattern) beside the API,
// without the API's bearer-token check: h authenticates on its own (the
// dashboard with its session cookie) or needs none (/readyz).
func WithHandler(pattern string, h http.Handler) Option {
	return func(s *Server) {
		if s.extra == nil {
			s.extra = map[string]http.Handler{}
		}
		s.extra[pattern] = h
	}
}

// New returns a Server exposing svc to clients that present token.
func New(svc api.Service, token string, opts ...Option) (*Server, error) {
	if svc == nil {
		return nil, errors.New("server: no workflow service")
	}
	if err := checkToken(token); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{svc: svc, token: []byte(token), log: slog.Default(), mux: http.NewServeMux()}
	for _, o := range opts {
		o(s)
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	api := map[string]http.HandlerFunc{
		"GET /v1/workflows":                           s.listWorkflows,
		"POST /v1/workflows":                          s.createWorkflow,
		"GET /v1/workflows/{registry}/{type}":         s.getWorkflow,
		"PATCH /v1/workflows/{registry}/{type}":       s.updateWorkflow,
		"DELETE /v1/workflows/{registry}/{type}":      s.deleteWorkflow,
		"GET /v1/workflows/{registry}/{type}/images":  s.listImages,
		"POST /v1/workflows/{registry}/{type}/cancel": s.cancelRuns,
		"GET /v1/runs":                                s.listRuns,
		"GET /v1/runs/{id}/log":                       s.runLog,
		"/v1/":                                        s.notFound,
	}
	for pattern, h := range api {
		s.mux.Handle(pattern, s.authenticate(h))
	}
	for pattern, h := range s.extra {
		s.mux.Handle(pattern, h)
	}
}

// ServeHTTP serves one request, logging its outcome.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	level := slog.LevelInfo
	if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
		level = slog.LevelDebug
	}
	s.log.Log(r.Context(), level, "api request",
		"method", r.Method, "path", r.URL.Path, "status", rec.status,
		"duration", time.Since(start).Round(time.Microsecond))
}

// Serve answers requests on ln until ctx ends, then shuts down gracefully,
// giving requests in flight up to 10 seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve API on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down API: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve API on %s: %w", ln.Addr(), err)
	}
	return nil
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
