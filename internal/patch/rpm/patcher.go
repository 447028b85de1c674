package rpm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmmd"
)

// Options configure a Patcher.
type Options struct {
	// CacheDir holds downloaded metadata and packages; required.
	CacheDir string
	// HTTPClient fetches repository files; nil means a default client.
	HTTPClient *http.Client
	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for signature checks and install times; nil
	// means time.Now.
	Now func() time.Time
	// Keyring, when set, verifies every repository and package instead
	// of the keys the image names in gpgkey=.
	Keyring *rpm.Keyring
	// Mirrors replace repository URLs (see rpmmd.Mirror).
	Mirrors patch.Mirrors
	// AllowUnsigned installs packages of repositories with gpgcheck=0;
	// without it such a plan is refused.
	AllowUnsigned bool
}

// Families are the OS families the rpm patcher handles: every family
// whose images keep an rpm database. Images whose database is Berkeley
// DB fail with ErrBerkeleyDB.
var Families = []ospkg.Family{
	ospkg.Alma, ospkg.Amazon, ospkg.Azure, ospkg.CBLMariner, ospkg.CentOS, ospkg.CentOSStream,
	ospkg.Fedora, ospkg.OpenSUSELeap, ospkg.OpenSUSETumbleweed, ospkg.Oracle, ospkg.Photon,
	ospkg.RedHat, ospkg.Rocky, ospkg.SLEMicro, ospkg.SLES,
}

func init() { patch.Register("rpm", Families, fromConfig) }

// fromConfig builds the rpm patcher from the shared patcher config: its
// cache in <DataDir>/rpm, the "rpm" repository settings. A Keyring is an
// armored or binary OpenPGP key file.
func fromConfig(_ context.Context, cfg patch.Config) (patch.Patcher, error) {
	rc := cfg.Repositories["rpm"]
	opts := Options{CacheDir: cfg.CacheDir("rpm"), HTTPClient: cfg.HTTPClient, Logger: cfg.Logger, Now: cfg.Now,
		Mirrors: rc.Mirrors, AllowUnsigned: rc.AllowUnsigned}
	if rc.Keyring != "" {
		data, err := os.ReadFile(rc.Keyring)
		if err != nil {
			return nil, fmt.Errorf("rpm patcher: keyring: %w", err)
		}
		kr, err := rpm.ParseKeyring(rc.Keyring, data)
		if err != nil {
			return nil, fmt.Errorf("rpm patcher: keyring: %w", err)
		}
		opts.Keyring = kr
	}
	return New(opts)
}

// Patcher patches RPM-based images. It is safe for concurrent use.
type Patcher struct {
	opts   Options
	log    *slog.Logger
	client *rpmmd.Client
}

var _ patch.Patcher = (*Patcher)(nil)

// New returns a Patcher.
func New(opts Options) (*Patcher, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	client, err := rpmmd.NewClient(rpmmd.Options{CacheDir: opts.CacheDir, HTTPClient: opts.HTTPClient, Logger: opts.Logger, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("rpm patcher: %w", err)
	}
	return &Patcher{opts: opts, log: opts.Logger, client: client}, nil
}

// Name returns "rpm".
func (p *Patcher) Name() string { return "rpm" }

// Patch plans the upgrades that fix req.Findings in img and, unless
// req.DryRun, builds the patch layer. Errors wrap patch.ErrUnmetDependency,
// patch.ErrConflict, patch.ErrNoConvergence, ErrUnsigned or ErrBerkeleyDB (all
// permanent), rpm.ErrUntrustedKey, rpm.ErrBadSignature, rpm.ErrDigest or
// rpmmd.ErrChecksum when a repository or package cannot be trusted, and
// name the package, file or URL at fault.
func (p *Patcher) Patch(ctx context.Context, img v1.Image, req patch.Request) (*patch.Outcome, error) {
	out, err := p.patch(ctx, img, req)
	if err != nil {
		return nil, fmt.Errorf("rpm patcher: %w", err)
	}
	return out, nil
}

// ErrUnsigned: the plan needs packages from a repository with gpgcheck=0
// and --allow-unsigned was not given.
var ErrUnsigned = patch.Permanent(errors.New("repository does not check package signatures (gpgcheck=0)"))

// patch does Patch's work.
func (p *Patcher) patch(ctx context.Context, img v1.Image, req patch.Request) (*patch.Outcome, error) {
	log := logctx.From(ctx, p.log)
	workDir := req.TempDir()
	out := patch.NewOutcome()
	findings := req.Fixable()
	if len(findings) == 0 {
		return out, nil
	}
	log.DebugContext(ctx, "rpm patcher: reading the image")
	st, err := readImageState(ctx, img, workDir)
	if err != nil {
		return nil, err
	}
	defer st.close()
	log.DebugContext(ctx, "rpm patcher: read the rpm database", "path", "/"+st.dbPath, "format", string(st.dbFormat), "packages", len(st.packages))
	repos, err := p.loadRepos(ctx, st)
	if err != nil {
		return nil, err
	}
	result, err := p.plan(ctx, st, repos, findings)
	var fd *fileDepError
	if errors.As(err, &fd) && !repos.filelists {
		log.InfoContext(ctx, "rpm patcher: loading the repositories' file lists for a file dependency", "path", fd.path)
		if err := p.loadFilelists(ctx, repos); err != nil {
			return nil, err
		}
		result, err = p.plan(ctx, st, repos, findings)
	}
	if err != nil {
		return nil, err
	}
	out.Fixed, out.Unfixed = result.fixed, result.unfixed
	for _, n := range result.changes {
		u := patch.Update{Name: n.cand.Name, Arch: n.cand.Arch, To: n.cand.EVR.String(), Reason: n.reason, Vulnerabilities: n.vulns}
		if n.inst != nil {
			u.From = n.inst.EVR.String()
		}
		out.Updates = append(out.Updates, u)
	}
	for _, n := range result.removals {
		log.InfoContext(ctx, "rpm patcher: removing obsoleted package", "package", n.inst.NEVRA(), "by", n.obsoletedBy)
	}
	if err := p.checkSigned(result.changes, repos); err != nil {
		return nil, err
	}
	if req.DryRun || len(result.changes) == 0 {
		return out, nil
	}
	built, err := p.build(ctx, st, result, workDir)
	if err != nil {
		return nil, err
	}
	out.Layer = built.layer
	out.SkippedScripts = built.skipped
	out.LayerHistory = patch.History("rpm", out.Updates, out.Fixed)
	return out, nil
}

// checkSigned refuses a plan with packages from repositories that do not
// check signatures, unless AllowUnsigned.
func (p *Patcher) checkSigned(changes []*node, repos *repoSet) error {
	if p.opts.AllowUnsigned {
		return nil
	}
	for _, n := range changes {
		if r := repos.byID[n.cand.Repo]; r != nil && !r.repo.GPGCheck {
			return fmt.Errorf("%w: %s comes from repository %s (%s); give --allow-unsigned to install it anyway", ErrUnsigned, n.cand.NEVRA(), r.repo.ID, r.repo.File)
		}
	}
	return nil
}

// plan chooses the packages that fix findings and closes the choice over
// dependencies.
func (p *Patcher) plan(ctx context.Context, st *imageState, repos *repoSet, findings []patch.Finding) (*plan, error) {
	var inst []*Package
	for _, in := range st.packages {
		inst = append(inst, in.pkg)
	}
	pl := newPlanner(inst, NewIndex(repos.candidates, IndexOptions{Exclude: repos.exclude, Streams: st.streams}), logctx.From(ctx, p.log))
	pl.choose(pl.targets(findings))
	if err := pl.close(); err != nil {
		return nil, err
	}
	return pl.result(findings), nil
}
