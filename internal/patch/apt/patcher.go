package apt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
)

// DefaultHostKeyringDir is where the host's distribution archive keyrings
// are looked for when an image trusts no keys.
const DefaultHostKeyringDir = "/usr/share/keyrings"

// Options configure a Patcher.
type Options struct {
	// CacheDir holds downloaded indexes and packages; required.
	CacheDir string
	// HTTPClient fetches repository files; nil means a default client.
	HTTPClient *http.Client
	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
	// Keyring, when set, verifies every repository instead of the keys
	// the image trusts.
	Keyring *archive.Keyring
	// Mirror, when set, replaces the URI of every source.
	Mirror string
	// Mirrors replaces the URIs it names (keys, compared without a
	// trailing slash) with its values; it takes precedence over Mirror.
	Mirrors map[string]string
	// HostKeyringDir is searched for "<id>-archive-keyring.gpg" when the
	// image trusts no keys (distroless images); empty disables that.
	HostKeyringDir string
	// Now is the clock for signature checks; nil means time.Now.
	Now func() time.Time
}

// families are the OS families the apt patcher handles.
var families = []ospkg.Family{ospkg.Debian, ospkg.Ubuntu}

func init() { patch.Register("apt", families, fromConfig) }

// fromConfig builds the apt patcher from the shared patcher config: its
// cache in <DataDir>/apt, the "apt" repository settings.
func fromConfig(ctx context.Context, cfg patch.Config) (patch.Patcher, error) {
	rc := cfg.Repositories["apt"]
	opts := Options{
		CacheDir:   cfg.CacheDir("apt"),
		HTTPClient: cfg.HTTPClient,
		Logger:     cfg.Logger,
		Mirror:     rc.Mirrors.All,
		Mirrors:    rc.Mirrors.ByURL,
		Now:        cfg.Now,
	}
	if rc.HostKeys {
		opts.HostKeyringDir = DefaultHostKeyringDir
	}
	if rc.Keyring != "" {
		kr, err := LoadKeyring(ctx, rc.Keyring)
		if err != nil {
			return nil, fmt.Errorf("apt patcher: %w", err)
		}
		opts.Keyring = kr
	}
	return New(opts)
}

// Patcher patches Debian and Ubuntu images. It is safe for concurrent use.
type Patcher struct {
	opts   Options
	log    *slog.Logger
	client *archive.Client
}

var _ patch.Patcher = (*Patcher)(nil)

// New returns a Patcher.
func New(opts Options) (*Patcher, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Mirrors = maps.Clone(opts.Mirrors)
	client, err := archive.NewClient(archive.Options{
		CacheDir:   opts.CacheDir,
		HTTPClient: opts.HTTPClient,
		Logger:     opts.Logger,
		Now:        opts.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("apt patcher: %w", err)
	}
	return &Patcher{opts: opts, log: opts.Logger, client: client}, nil
}

// Name returns "apt".
func (p *Patcher) Name() string { return "apt" }

// Patch plans the upgrades that fix req.Findings in img and, unless
// req.DryRun, builds the patch layer. A plan without changes gives an
// outcome without a layer. Errors wrap patch.ErrUnmetDependency, patch.ErrConflict or
// patch.ErrNoConvergence when the plan cannot be closed, and name the package,
// file or URL at fault.
func (p *Patcher) Patch(ctx context.Context, img v1.Image, req patch.Request) (*patch.Outcome, error) {
	workDir := req.TempDir()
	st, err := readImageState(ctx, img, workDir, logctx.From(ctx, p.log))
	if err != nil {
		return nil, fmt.Errorf("apt patcher: %w", err)
	}
	defer func() { _ = st.view.Close() }()
	arch := dpkgArch(st)
	if arch == "" {
		return nil, errors.New("apt patcher: cannot tell the image's dpkg architecture")
	}
	out := patch.NewOutcome()
	findings := req.Fixable()
	if len(findings) == 0 {
		return out, nil
	}
	srcs, err := p.imageSources(ctx, st, arch)
	if err != nil {
		return nil, fmt.Errorf("apt patcher: %w", err)
	}
	logctx.From(ctx, p.log).InfoContext(ctx, "apt patcher: loading package indexes", "sources", len(srcs), "arch", arch, "release", st.rel.String())
	index, err := p.client.LoadIndex(ctx, srcs, arch)
	if err != nil {
		return nil, fmt.Errorf("apt patcher: %w", err)
	}
	pl := newPlanner(st.db, arch, index, logctx.From(ctx, p.log))
	if err := pl.choose(pl.targets(findings)); err != nil {
		return nil, fmt.Errorf("apt patcher: %w", err)
	}
	if err := pl.close(); err != nil {
		return nil, fmt.Errorf("apt patcher: %w", err)
	}
	result := pl.result(findings)
	out.Fixed, out.Unfixed = result.fixed, result.unfixed
	for _, ps := range result.changes {
		u := patch.Update{Name: ps.name, Arch: ps.arch, To: ps.version, Reason: ps.reason, Vulnerabilities: ps.vulns}
		if ps.orig != nil {
			u.From = ps.orig.Version
		}
		out.Updates = append(out.Updates, u)
	}
	if req.DryRun || len(result.changes) == 0 {
		return out, nil
	}
	built, err := p.build(ctx, st, p.client, result.changes, workDir)
	if err != nil {
		return nil, fmt.Errorf("apt patcher: %w", err)
	}
	out.Layer = built.layer
	out.SkippedScripts = built.skipped
	out.LayerHistory = patch.History("apt", out.Updates, out.Fixed)
	return out, nil
}

// dpkgArch returns the image's dpkg architecture: the most common
// architecture of its installed packages other than "all", else the one
// its config names.
func dpkgArch(st *imageState) string {
	count := map[string]int{}
	for _, r := range st.db.records {
		if r.Arch != "" && r.Arch != "all" && r.isInstalled() {
			count[r.Arch]++
		}
	}
	best := ""
	for _, a := range sortedNames(count) {
		if best == "" || count[a] > count[best] {
			best = a
		}
	}
	if best != "" {
		return best
	}
	if st.cfg == nil {
		return ""
	}
	return goArchToDpkg(st.cfg.Architecture, st.cfg.Variant)
}

// goArchToDpkg maps an OCI platform architecture to dpkg's name.
func goArchToDpkg(arch, variant string) string {
	switch arch {
	case "386":
		return "i386"
	case "arm":
		if variant == "v5" || variant == "v6" {
			return "armel"
		}
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	case "mips64le":
		return "mips64el"
	case "mipsle":
		return "mipsel"
	}
	return arch
}

// IndexStats says how the package indexes this patcher loaded were
// obtained (parsed, or read back parsed); tests and benchmarks use it to
// check that each index is parsed once.
func (p *Patcher) IndexStats() archive.IndexStats { return p.client.IndexStats() }
