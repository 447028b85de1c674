// Package embedded runs the CNCF reference registry
// (github.com/distribution/distribution/v3) in-process. `patchloop registry
// serve` and `patchloop serve --embedded-registry` use it so a newcomer needs
// nothing else installed, and tests use it as a real registry on loopback.
//
// Without Options.Htpasswd the registry lets anyone pull, push and delete:
// it is meant for loopback or a trusted network. With it, every request
// needs the HTTP basic credentials of a bcrypt entry of that file
// (distribution's htpasswd access controller); serve it behind TLS when
// the credentials cross a network.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd" // the "htpasswd" access controller
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	// Storage drivers the registry can use.
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// Options configure a registry.
type Options struct {
	// Root is the directory holding the registry's content. Empty keeps
	// everything in memory, which suits tests.
	Root string
	// CatalogMaxEntries caps one page of /v2/_catalog (default 1000).
	CatalogMaxEntries int
	// Htpasswd, when set, is an htpasswd file of bcrypt entries
	// (`htpasswd -B`): every request must authenticate as one of its
	// users. The file must exist; it is read again when it changes.
	Htpasswd string
}

// Handler returns an http.Handler serving the OCI distribution API with
// deletes enabled and the given storage. The caller must call the returned
// function to release the registry's background work.
func Handler(ctx context.Context, opts Options) (http.Handler, func(), error) {
	logrus.SetOutput(io.Discard) // the registry's own request logs are noise to us
	cfg := &configuration.Configuration{}
	cfg.Storage = configuration.Storage{
		"delete":      configuration.Parameters{"enabled": true},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}
	if opts.Root != "" {
		cfg.Storage["filesystem"] = configuration.Parameters{"rootdirectory": opts.Root}
	} else {
		cfg.Storage["inmemory"] = configuration.Parameters{}
	}
	cfg.Catalog.MaxEntries = opts.CatalogMaxEntries
	if cfg.Catalog.MaxEntries <= 0 {
		cfg.Catalog.MaxEntries = 1000
	}
	cfg.Log.Level = "error"
	cfg.HTTP.Secret = "patchloop-embedded-registry"
	if opts.Htpasswd != "" {
		if err := checkHtpasswd(opts.Htpasswd); err != nil {
			return nil, nil, err
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "patchloop", "path": opts.Htpasswd}}
	}
	var app *handlers.App
	err := func() (err error) {
		// NewApp panics on configuration errors; turn that into an error.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("start registry: %v", r)
			}
		}()
		app = handlers.NewApp(ctx, cfg)
		return nil
	}()
	if err != nil {
		return nil, nil, err
	}
	return app, func() { _ = app.Shutdown() }, nil
}

// checkHtpasswd makes sure path is an htpasswd file the registry can use:
// it exists (distribution would otherwise create one with a random
// password nobody is told) and holds at least one user, each with a bcrypt
// hash, the only kind distribution accepts.
func checkHtpasswd(path string) error {
	const hint = "create it with `htpasswd -Bbn USER PASSWORD > FILE` (bcrypt entries)"
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("registry htpasswd file: %w: %s", err, hint)
	}
	users := 0
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return fmt.Errorf("registry htpasswd file %s line %d: want USER:HASH: %s", path, n+1, hint)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return fmt.Errorf("registry htpasswd file %s line %d: user %s: not a bcrypt hash (%v): %s", path, n+1, user, err, hint)
		}
		users++
	}
	if users == 0 {
		return fmt.Errorf("registry htpasswd file %s has no users: %s", path, hint)
	}
	return nil
}

// Server is a registry listening on a TCP address.
type Server struct {
	// Addr is the host:port the registry listens on.
	Addr string

	srv      *http.Server
	cleanup  func()
	once     sync.Once
	closeErr error
}

// Start listens on addr (for example "127.0.0.1:0") and serves the registry
// until Close is called or ctx ends.
func Start(ctx context.Context, addr string, opts Options) (*Server, error) {
	h, cleanup, err := Handler(ctx, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("registry: listen on %s: %w", addr, err)
	}
	s := &Server{
		Addr:    ln.Addr().String(),
		srv:     &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second},
		cleanup: cleanup,
	}
	go func() { _ = s.srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = s.Close()
	}()
	return s, nil
}

// Close stops the server, giving requests in flight five seconds to finish
// before cutting them, and releases the registry. It is safe to call more
// than once and from several goroutines.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			// A client kept a request open past the grace period: cut it.
			err = s.srv.Close()
		}
		s.cleanup()
		if !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = err
		}
	})
	return s.closeErr
}
