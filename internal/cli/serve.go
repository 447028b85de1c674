package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/registry/embedded"
	"github.com/patchloop/patchloop/internal/server"
	"github.com/patchloop/patchloop/internal/workflow"
)

// serveFlags are the flags of patchloop serve.
type serveFlags struct {
	addr        string
	databaseURL string
	concurrency int
	maxImages   int
	embedded    string
	token       string
	authHost    string
	heartbeat   time.Duration
	lease       time.Duration
	// dataDir, dbRepositories, skipDBUpdate, mirrors and keyring mean
	// what they mean to patchloop patch.
	patch patchFlags
}

func newServeCommand(s *streams) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Patchloop service: the workflow engine and its HTTP API",
		Long: `Serve runs the continuous patching service until interrupted: it stores
workflows, runs their cycles on schedule (trigger, scan and patch tasks) and
answers the HTTP API the workflow and task commands use.

State lives in SQLite in --data-dir unless --database-url names a PostgreSQL
database; the vulnerability database (db/, updated at start), the scan
cache (cache/) and downloaded packages (apt/) live there too. Clients
authenticate with a bearer token: --token (or $PATCHLOOP_TOKEN) sets it,
otherwise one is generated on first start; either way it is kept in
<data-dir>/token (mode 0600), where local commands find it.

Registry credentials come from the Docker config and its credential helpers,
or from --username and --password-stdin for the registry --auth-registry
names. --embedded-registry also runs an OCI registry in-process, storing its
content in <data-dir>/registry.`,
		Example: `  # The service on 127.0.0.1:8080 with an embedded registry on localhost:5000
  patchloop serve --embedded-registry 127.0.0.1:5000

  # PostgreSQL, 8 tasks at once, a token chosen by you
  PATCHLOOP_TOKEN=$(cat token.txt) patchloop serve --addr 0.0.0.0:8080 \
      --database-url postgres://patchloop@db/patchloop --concurrency 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, s, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address the API listens on")
	fl.StringVar(&f.patch.dataDir, "data-dir", defaultDataDir, "directory for the token, the SQLite database, the vulnerability database, caches and the embedded registry")
	fl.StringVar(&f.databaseURL, "database-url", "", "PostgreSQL database, postgres://… (default: SQLite in --data-dir)")
	fl.IntVar(&f.concurrency, "concurrency", 4, "how many scans run at once (patches: half as many, at least 1)")
	fl.IntVar(&f.maxImages, "max-images", workflow.DefaultMaxImages, "safety limit: a cycle whose config selects more images fails")
	fl.StringVar(&f.embedded, "embedded-registry", "", "also serve an OCI registry on this address, for example 127.0.0.1:5000")
	fl.StringVar(&f.token, "token", "", "API token clients must present (default: $PATCHLOOP_TOKEN, else generated once)")
	fl.StringVar(&f.authHost, "auth-registry", "", "registry host that --username and --password-stdin log in to")
	fl.DurationVar(&f.heartbeat, "heartbeat-interval", workflow.DefaultHeartbeatInterval, "how often a running task renews its lease, and how often runs of dead workers are looked for")
	fl.DurationVar(&f.lease, "lease-timeout", workflow.DefaultLeaseTimeout, "a task that has not renewed its lease for this long lost its worker: its run is retried (at least three heartbeat intervals)")
	fl.BoolVar(&f.patch.skipDBUpdate, "skip-db-update", false, "do not update the vulnerability database in <data-dir>/db at start")
	fl.StringSliceVar(&f.patch.dbRepositories, "db-repository", nil, "vulnerability database repositories to update from, in order (repeatable)")
	fl.StringArrayVar(&f.patch.mirrors, "apt-mirror", nil, "replace every apt source URI with URL, or one with FROM=TO (repeatable)")
	fl.StringVar(&f.patch.keyring, "keyring", "", "verify APT repositories with this keyring instead of the keys each image trusts")
	f.patch.reg.register(cmd)
	return cmd
}

func (f *serveFlags) check() error {
	if f.maxImages < 1 {
		return usagef("--max-images %d: must be at least 1", f.maxImages)
	}
	if f.concurrency < 1 {
		return usagef("--concurrency %d: must be at least 1", f.concurrency)
	}
	if f.heartbeat <= 0 || f.lease < 3*f.heartbeat {
		return usagef("--heartbeat-interval %s, --lease-timeout %s: want a positive interval and a timeout of at least three intervals", f.heartbeat, f.lease)
	}
	if f.databaseURL != "" {
		u, err := url.Parse(f.databaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return usagef("--database-url: want postgres://user@host/database (SQLite needs no flag: it lives in --data-dir)")
		}
	}
	if (f.patch.reg.username != "") != (f.authHost != "") {
		return usagef("--username and --auth-registry go together: the credentials and the registry they are for")
	}
	if f.authHost != "" {
		if _, err := registryHost(f.authHost); err != nil {
			return err
		}
	}
	// The tag convention and output are patch's own; give them valid values.
	f.patch.output, f.patch.convention = "text", ""
	_, _, err := f.patch.check()
	return err
}

func runServe(cmd *cobra.Command, s *streams, f *serveFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	ctx := cmd.Context()
	dataDir := f.patch.dataDir
	token := f.token
	if token == "" {
		token = os.Getenv(client.EnvToken)
	}
	token, tokenPath, err := server.LoadOrCreateToken(dataDir, token)
	if err != nil {
		return usageError{err}
	}
	reg, err := f.patch.reg.client(s, f.authHost)
	if err != nil {
		return err
	}
	aptOpts, err := f.patch.aptOptions(ctx, s)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(s.err, nil))
	aptOpts.Logger = log
	if f.embedded != "" {
		root := filepath.Join(dataDir, "registry")
		r, err := embedded.Start(ctx, f.embedded, embedded.Options{Root: root})
		if err != nil {
			return err
		}
		defer r.Close()
		fmt.Fprintf(s.err, "Embedded registry listening on http://%s (content in %s)\n", r.Addr, root)
	}
	svc, closeEngine, err := startEngine(ctx, engineOptions{
		DataDir: dataDir, DatabaseURL: f.databaseURL, Concurrency: f.concurrency, MaxImages: f.maxImages,
		Registry: reg, APT: aptOpts, Logger: log, HeartbeatInterval: f.heartbeat, LeaseTimeout: f.lease,
		UpdateDB: func(context.Context) error {
			if f.patch.skipDBUpdate {
				return nil
			}
			return updateDB(cmd, s, s.err, dbDir(dataDir), f.patch.dbRepositories, false, true, reg)
		},
	})
	if err != nil {
		return fmt.Errorf("start the workflow engine: %w", err)
	}
	stop := func() error { return closeEngine(context.WithoutCancel(ctx)) }
	srv, err := server.New(svc, token, server.WithLogger(log))
	if err != nil {
		return errors.Join(err, stop())
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return errors.Join(usagef("--addr: %v", err), stop())
	}
	fmt.Fprintf(s.err, "Patchloop API listening on http://%s\n", ln.Addr())
	fmt.Fprintf(s.err, "API token in %s (commands read it with --data-dir %s, or from $%s); press Ctrl-C to stop\n",
		tokenPath, dataDir, client.EnvToken)
	return errors.Join(srv.Serve(ctx, ln), stop())
}
