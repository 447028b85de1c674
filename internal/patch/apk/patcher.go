package apk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
)

// Options configure a Patcher.
type Options struct {
	// CacheDir holds downloaded indexes and packages; required.
	CacheDir string
	// HTTPClient fetches repository files; nil means a default client.
	HTTPClient *http.Client
	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
	// Keyring, when set, verifies every index instead of the keys the
	// image trusts.
	Keyring *apk.Keyring
	// Mirrors replace repository URLs (see apk.Mirror).
	Mirrors patch.Mirrors
}

// Families are the OS families the apk patcher handles.
var Families = []ospkg.Family{ospkg.Alpine, ospkg.Wolfi, ospkg.Chainguard}

func init() { patch.Register("apk", Families, fromConfig) }

// fromConfig builds the apk patcher from the shared patcher config: its
// cache in <DataDir>/apk, the "apk" repository settings. A Keyring is a
// PEM public key file or a directory of them (as etc/apk/keys).
func fromConfig(_ context.Context, cfg patch.Config) (patch.Patcher, error) {
	rc := cfg.Repositories["apk"]
	opts := Options{CacheDir: cfg.CacheDir("apk"), HTTPClient: cfg.HTTPClient, Logger: cfg.Logger, Mirrors: rc.Mirrors}
	if rc.Keyring != "" {
		kr, err := LoadKeys(rc.Keyring)
		if err != nil {
			return nil, fmt.Errorf("apk patcher: %w", err)
		}
		opts.Keyring = kr
	}
	return New(opts)
}

// LoadKeys reads RSA public keys from a PEM file or from every regular
// file of a directory.
func LoadKeys(p string) (*apk.Keyring, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	files := []string{p}
	if fi.IsDir() {
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		files = nil
		for _, e := range ents {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	kr := apk.NewKeyring()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		if err := kr.Add(f, data); err != nil {
			return nil, err
		}
	}
	if kr.Len() == 0 {
		return nil, fmt.Errorf("keys: no key in %s", p)
	}
	return kr, nil
}

// Patcher patches Alpine, Wolfi and Chainguard images. It is safe for
// concurrent use.
type Patcher struct {
	opts   Options
	log    *slog.Logger
	client *apk.Client
}

var _ patch.Patcher = (*Patcher)(nil)

// New returns a Patcher.
func New(opts Options) (*Patcher, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	client, err := apk.NewClient(apk.Options{CacheDir: opts.CacheDir, HTTPClient: opts.HTTPClient, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("apk patcher: %w", err)
	}
	return &Patcher{opts: opts, log: opts.Logger, client: client}, nil
}

// IndexStats says how the package indexes this patcher loaded were
// obtained: parsed, or loaded from the cache's parsed tables.
func (p *Patcher) IndexStats() apk.IndexStats { return p.client.IndexStats() }

// Name returns "apk".
func (p *Patcher) Name() string { return "apk" }

// Patch plans the upgrades that fix req.Findings in img and, unless
// req.DryRun, builds the patch layer. Errors wrap patch.ErrUnmetDependency,
// patch.ErrConflict or patch.ErrNoConvergence when the plan cannot be closed (those
// are permanent), apk.ErrUntrustedKey, apk.ErrBadSignature or
// apk.ErrChecksum when the repository cannot be trusted, and name the
// package, file or URL at fault.
func (p *Patcher) Patch(ctx context.Context, img v1.Image, req patch.Request) (*patch.Outcome, error) {
	out, err := p.patch(ctx, img, req)
	if err != nil {
		return nil, fmt.Errorf("apk patcher: %w", err)
	}
	return out, nil
}

// patch does Patch's work.
func (p *Patcher) patch(ctx context.Context, img v1.Image, req patch.Request) (*patch.Outcome, error) {
	workDir := req.TempDir()
	st, err := readImageState(ctx, img, workDir)
	if err != nil {
		return nil, err
	}
	defer st.view.Close()
	out := patch.NewOutcome()
	findings := req.Fixable()
	if len(findings) == 0 {
		return out, nil
	}
	srcs, err := p.sources(ctx, st)
	if err != nil {
		return nil, err
	}
	kr := p.opts.Keyring
	if kr == nil {
		if kr = st.keyring(logctx.From(ctx, p.log)); kr.Len() == 0 {
			want := apk.DefaultKeyNames[st.id]
			return nil, patch.Permanent(fmt.Errorf("the image trusts no apk keys (/%s, /%s/%s are empty); give them with --apk-keyring (%s signs %s's indexes)", keysDir, shareKeysDir, st.arch, want, st.id))
		}
	}
	logctx.From(ctx, p.log).InfoContext(ctx, "apk patcher: loading package indexes", "repositories", len(srcs), "arch", st.arch, "release", st.id+" "+st.versionID)
	index, err := p.client.LoadIndex(ctx, srcs, st.arch, kr)
	if err != nil {
		return nil, err
	}
	pl := newPlanner(st.db, index, st.world, logctx.From(ctx, p.log))
	pl.choose(pl.targets(findings))
	if err := pl.close(); err != nil {
		return nil, err
	}
	result := pl.result(findings)
	out.Fixed, out.Unfixed = result.fixed, result.unfixed
	for _, n := range result.changes {
		u := patch.Update{Name: n.name, Arch: n.cand.Arch, To: n.cand.Version, Reason: n.reason, Vulnerabilities: n.vulns}
		if n.inst != nil {
			u.From = n.inst.Version
		}
		out.Updates = append(out.Updates, u)
	}
	if req.DryRun || len(result.changes) == 0 {
		return out, nil
	}
	built, err := p.build(ctx, st, result.changes, workDir)
	if err != nil {
		return nil, err
	}
	out.Layer = built.layer
	out.SkippedScripts = built.skipped
	out.LayerHistory = patch.History("apk", out.Updates, out.Fixed)
	return out, nil
}

// sources returns the repositories of the image (etc/apk/repositories),
// else its release's defaults, with the mirrors applied.
func (p *Patcher) sources(ctx context.Context, st *imageState) ([]apk.Source, error) {
	var srcs []apk.Source
	if st.hasRepos {
		var skipped []string
		var err error
		if srcs, skipped, err = apk.ParseRepositories(st.repositories); err != nil {
			return nil, err
		}
		for _, s := range skipped {
			logctx.From(ctx, p.log).WarnContext(ctx, "apk patcher: skipping a local repository", "repository", s)
		}
	}
	if len(srcs) == 0 {
		var err error
		if srcs, err = apk.DefaultRepositories(st.id, st.versionID); err != nil {
			return nil, errors.Join(errors.New("the image lists no usable repository in /"+reposFile), err)
		}
	}
	return apk.Mirror(srcs, p.opts.Mirrors.All, p.opts.Mirrors.ByURL), nil
}
