package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/dashboard"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/metrics"
	"github.com/patchloop/patchloop/internal/redact"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/registry/embedded"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/server"
	"github.com/patchloop/patchloop/internal/workflow"
)

// serveFlags are the flags of patchloop serve.
type serveFlags struct {
	addr        string
	databaseURL string
	concurrency int
	maxImages   int
	ignoreFile  string
	embedded    string
	htpasswd    string
	token       string
	authHost    string
	maxDBAge    time.Duration
	heartbeat   time.Duration
	lease       time.Duration
	logFormat   string
	logLevel    string
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
database; the vulnerability database (db/, updated at start and before
every cycle, or the directory --db names, used as it is for offline use), the
scan cache (cache/) and downloaded packages (apt/, apk/) live there too.
Clients authenticate with a bearer token: --token (or $PATCHLOOP_TOKEN) sets
it (at least 32 characters: openssl rand -hex 32), otherwise one is generated
on first start; either way it is kept in <data-dir>/token (mode 0600), where
local commands find it. A token file group or others may read is refused.

The dashboard is at http://<addr>/ (log in with the token), River's queue
view at /river/ (same login); Prometheus
metrics at /metrics (bearer token), health at /healthz and readiness at
/readyz (no token).

Registry credentials come from the Docker config and its credential helpers,
or from --username and --password-stdin for the registry --auth-registry
names. --embedded-registry also runs an OCI registry in-process, storing its
content in <data-dir>/registry. Without --embedded-registry-htpasswd anyone
who reaches that address may push and delete images: keep it on loopback or
a trusted network. With an htpasswd file (bcrypt entries, htpasswd -B) every
request needs one of its users; the service itself then logs in with
--auth-registry, --username and --password-stdin (or the Docker config).

With --cosign-key or --notation-key/--notation-cert every patched image is
signed after its push, and with --attach its OpenVEX document, SBOMs and scan
reports are pushed next to it as signed OCI referrers. With
--require-signature-key (or --require-signature-cert) an original that no
trusted key signed is skipped, never patched (docs/signing.md).`,
		Example: `  # The service on 127.0.0.1:8080 with an embedded registry on localhost:5000
  patchloop serve --embedded-registry 127.0.0.1:5000

  # PostgreSQL, 8 tasks at once, a token chosen by you
  PATCHLOOP_TOKEN=$(cat token.txt) patchloop serve --addr 0.0.0.0:8080 \
      --database-url postgres://patchloop@db/patchloop --concurrency 8

  # Sign what is pushed, attach VEX and SBOMs, patch only signed originals
  COSIGN_PASSWORD=… patchloop serve --cosign-key cosign.key --attach \
      --require-signature-key upstream.pub`,
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
	fl.StringVar(&f.ignoreFile, "ignorefile", "", "ignore file in Trivy's .trivyignore format that every scan and patch task reads anew (the IDs in force are neither counted as fixable nor patched)")
	fl.StringVar(&f.embedded, "embedded-registry", "", "also serve an OCI registry on this address, for example 127.0.0.1:5000 (unauthenticated without --embedded-registry-htpasswd: loopback or a trusted network only)")
	fl.StringVar(&f.htpasswd, "embedded-registry-htpasswd", "", "require the users of this htpasswd file (bcrypt entries) on the embedded registry")
	fl.StringVar(&f.token, "token", "", "API token clients must present, at least 32 characters (default: $PATCHLOOP_TOKEN, else generated once)")
	fl.DurationVar(&f.maxDBAge, "max-db-age", metrics.DefaultMaxDBAge, "/readyz reports not ready when the vulnerability database is older than this")
	fl.StringVar(&f.authHost, "auth-registry", "", "registry host that --username and --password-stdin log in to")
	fl.StringVar(&f.patch.db, "db", "", "use the vulnerability database in this directory as it is, never updated (offline use; default <data-dir>/db, updated before every cycle)")
	fl.DurationVar(&f.heartbeat, "heartbeat-interval", workflow.DefaultHeartbeatInterval, "how often a running task renews its lease, and how often runs of dead workers are looked for")
	fl.DurationVar(&f.lease, "lease-timeout", workflow.DefaultLeaseTimeout, "a task that has not renewed its lease for this long lost its worker: its run is retried (at least three heartbeat intervals)")
	fl.BoolVar(&f.patch.skipDBUpdate, "skip-db-update", false, "never update the vulnerability database in <data-dir>/db (neither at start nor before cycles): offline use, after patchloop db import")
	fl.StringSliceVar(&f.patch.dbRepositories, "db-repository", nil, "vulnerability database repositories to update from, in order (repeatable)")
	fl.StringArrayVar(&f.patch.mirrors, "apt-mirror", nil, "replace every apt source URI with URL, or one with FROM=TO (repeatable)")
	fl.StringVar(&f.patch.keyring, "keyring", "", "verify APT repositories with this keyring instead of the keys each image trusts")
	fl.StringArrayVar(&f.patch.apkMirrors, "apk-mirror", nil, "replace the base of every apk repository with URL, or a URL prefix with FROM=TO (repeatable)")
	fl.StringVar(&f.patch.apkKeyring, "apk-keyring", "", "verify apk indexes with these RSA public keys (a PEM file or a directory of them) instead of each image's etc/apk/keys")
	registerRPMFlags(fl, &f.patch)
	fl.StringVar(&f.logFormat, "log-format", "text", "format of the service's log on stderr: text or json")
	fl.StringVar(&f.logLevel, "log-level", "info", "lowest level logged: debug, info, warn or error (River's own lines are debug)")
	f.patch.reg.register(cmd)
	f.patch.sign.register(cmd)
	return cmd
}

// serveLogger returns the service's logger on w, in format (text or json)
// from level (debug, info, warn, error) up, with passwords masked.
func serveLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(redact.Handler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(redact.Handler(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

func (f *serveFlags) check() error {
	if f.maxImages < 1 {
		return usagef("--max-images %d: must be at least 1", f.maxImages)
	}
	if f.ignoreFile != "" {
		// Checked now so a typo fails at start, not in every task.
		if _, err := scan.LoadIgnore(f.ignoreFile, false); err != nil {
			return usagef("--ignorefile: %v", err)
		}
	}
	if f.htpasswd != "" && f.embedded == "" {
		return usagef("--embedded-registry-htpasswd needs --embedded-registry")
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
	log, err := serveLogger(s.err, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	ctx = logctx.With(ctx, log)
	m := metrics.New(log)
	reg, err := f.patch.reg.client(s, f.authHost, registry.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper {
		return m.Transport("registry", rt)
	}))
	if err != nil {
		return err
	}
	patchCfg, err := f.patch.patchConfig(log)
	if err != nil {
		return err
	}
	if patchCfg.HTTPClient == nil {
		patchCfg.HTTPClient = &http.Client{Transport: m.Transport("mirror", http.DefaultTransport)}
	}
	if f.embedded != "" {
		root := filepath.Join(dataDir, "registry")
		r, err := embedded.Start(ctx, f.embedded, embedded.Options{Root: root, Htpasswd: f.htpasswd})
		if err != nil {
			return err
		}
		defer r.Close()
		auth := "no authentication: loopback or a trusted network only"
		if f.htpasswd != "" {
			auth = "users of " + f.htpasswd
		}
		fmt.Fprintf(s.err, "Embedded registry listening on http://%s (content in %s; %s)\n", r.Addr, root, auth)
	}
	signers, err := f.patch.sign.signers(s.err)
	if err != nil {
		return err
	}
	required, err := f.patch.sign.verifiers()
	if err != nil {
		return err
	}
	vulnDBDir := cmp.Or(f.patch.db, dbDir(dataDir))
	svc, closeEngine, err := startEngine(ctx, engineOptions{
		Signers: signers, Attach: f.patch.sign.attach, RequireSignature: required,
		DataDir: dataDir, VulnDBDir: vulnDBDir, DatabaseURL: f.databaseURL, Concurrency: f.concurrency, MaxImages: f.maxImages,
		Registry: reg, Patch: patchCfg, Logger: log, HeartbeatInterval: f.heartbeat, LeaseTimeout: f.lease,
		IgnoreFile: f.ignoreFile,
		UpdateDB: func(context.Context) error {
			if f.patch.skipDBUpdate || f.patch.db != "" {
				return nil
			}
			return updateDB(cmd, s, s.err, dbDir(dataDir), f.patch.dbRepositories, false, true, reg)
		},
	})
	if err != nil {
		return fmt.Errorf("start the workflow engine: %w", err)
	}
	stop := func() error { return closeEngine(context.WithoutCancel(ctx)) }
	var queue http.Handler
	if e, ok := svc.(*workflow.Engine); ok {
		if queue, err = e.QueueUI(ctx, dashboard.QueuePath); err != nil {
			return errors.Join(err, stop())
		}
	}
	srv, err := newServer(svc, m, token, vulnDBDir, f.maxDBAge, log, queue)
	if err != nil {
		return errors.Join(err, stop())
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return errors.Join(usagef("--addr: %v", err), stop())
	}
	fmt.Fprintf(s.err, "Patchloop API listening on http://%s\n", ln.Addr())
	fmt.Fprintf(s.err, "Dashboard on http://%s/ (log in with the API token)\n", ln.Addr())
	fmt.Fprintf(s.err, "API token in %s (commands read it with --data-dir %s, or from $%s); press Ctrl-C to stop\n",
		tokenPath, dataDir, client.EnvToken)
	return errors.Join(srv.Serve(ctx, ln), stop())
}

// newServer returns the API server with the dashboard at /, River's queue
// view at /river/ (behind the dashboard's login), the metrics at /metrics
// and the readiness check at /readyz.
func newServer(svc workflow.Service, m *metrics.Metrics, token, vulnDBDir string, maxDBAge time.Duration, log *slog.Logger, queue http.Handler) (*server.Server, error) {
	dash, err := dashboard.New(svc, token, dashboard.Options{Logger: log, VulnDBDir: vulnDBDir, Queue: queue})
	if err != nil {
		return nil, err
	}
	m.Observe(svc, vulnDBDir)
	return server.New(svc, token, server.WithLogger(log),
		server.WithHandler("/", dash),
		server.WithHandler("GET /metrics", m.Handler(token)),
		server.WithHandler("GET /readyz", metrics.Ready(svc, metrics.ReadyOptions{VulnDBDir: vulnDBDir, MaxDBAge: maxDBAge})))
}
