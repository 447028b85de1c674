package patch

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// Config is what every registered patcher is built from: the settings all
// package managers share, and per package manager (by patcher name: "apt",
// "apk") its repository settings.
type Config struct {
	// DataDir is the directory under which each patcher keeps its
	// downloads, in a subdirectory named after it (<DataDir>/apt);
	// required.
	DataDir string
	// HTTPClient fetches repository files; nil means a default client.
	HTTPClient *http.Client
	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for signature checks; nil means time.Now.
	Now func() time.Time
	// Repositories holds the repository settings of each package manager,
	// by patcher name. A patcher without an entry uses the image's own
	// repositories and keys.
	Repositories map[string]RepositoryConfig
}

// CacheDir returns the cache directory of the named patcher.
func (c Config) CacheDir(name string) string { return filepath.Join(c.DataDir, name) }

// RepositoryConfig says where one package manager's packages come from
// and which keys verify them, instead of (or besides) what the image
// configures.
type RepositoryConfig struct {
	// Mirrors replace repository URLs.
	Mirrors Mirrors
	// Keyring, when set, is a file whose keys verify every repository
	// instead of the keys the image trusts (for apt a .gpg or .asc
	// keyring).
	Keyring string
	// HostKeys lets the patcher verify images that trust no keys
	// (distroless) with the host's keys for their distribution, from where
	// the package manager keeps them (apt: /usr/share/keyrings).
	HostKeys bool
	// AllowUnsigned lets the package manager install packages from
	// repositories that do not ask for signatures (rpm's gpgcheck=0);
	// without it such a patch is refused.
	AllowUnsigned bool
}

// Mirrors replace the repository URLs an image configures.
type Mirrors struct {
	// All, when set, replaces every URL.
	All string
	// ByURL replaces the URLs it names (keys, compared without a trailing
	// slash) with its values; it takes precedence over All.
	ByURL map[string]string
}

// ParseMirrors reads mirror flags: "URL" replaces every repository URL,
// "FROM=TO" replaces one. Every replacement must be an http(s) URL.
func ParseMirrors(specs []string) (Mirrors, error) {
	var m Mirrors
	for _, s := range specs {
		from, to, ok := strings.Cut(s, "=")
		if !ok {
			to = s
		}
		if !strings.HasPrefix(to, "http://") && !strings.HasPrefix(to, "https://") {
			return Mirrors{}, fmt.Errorf("mirror %q: want an http(s) URL, or FROM=TO", s)
		}
		if !ok {
			m.All = to
			continue
		}
		if m.ByURL == nil {
			m.ByURL = map[string]string{}
		}
		m.ByURL[from] = to
	}
	return m, nil
}

// Replace returns the URL to use for url: its own mirror, else the mirror
// of every URL, else url itself.
func (m Mirrors) Replace(url string) string {
	for from, to := range m.ByURL {
		if strings.TrimSuffix(from, "/") == strings.TrimSuffix(url, "/") {
			return to
		}
	}
	if m.All != "" {
		return m.All
	}
	return url
}

// Factory builds a patcher from the shared Config. It reads only its own
// entry of cfg.Repositories, keeps its files in cfg.CacheDir(name), and
// names itself in its errors ("apt patcher: …"): New returns them as they
// are.
type Factory func(ctx context.Context, cfg Config) (Patcher, error)

// registration is one registered patcher.
type registration struct {
	name     string
	families []ospkg.Family
	factory  Factory
}

var (
	registeredMu sync.Mutex
	registered   = map[string]registration{}
)

// Register makes a package manager's patcher available to New under its
// name for the given OS families (ospkg's values, as Trivy names them).
// Patcher packages call it from init, so that linking the package (a
// blank import in cmd/patchloop) is all it takes to support its images.
// Register panics when the name or a family is registered twice, as
// database/sql does for drivers: that is a programming error.
func Register(name string, families []ospkg.Family, f Factory) {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	if name == "" || f == nil || len(families) == 0 {
		panic("patch: Register needs a name, families and a factory")
	}
	if _, dup := registered[name]; dup {
		panic("patch: patcher " + name + " registered twice")
	}
	for _, r := range registered {
		for _, fam := range families {
			if slices.Contains(r.families, fam) {
				panic(fmt.Sprintf("patch: OS family %s registered by both %s and %s", fam, r.name, name))
			}
		}
	}
	registered[name] = registration{name: name, families: slices.Clone(families), factory: f}
}

// New builds every registered patcher from cfg and returns them by OS
// family. It fails when none is registered (the binary links no patcher
// package) or when one cannot be built (a keyring that does not load).
func New(ctx context.Context, cfg Config) (Patchers, error) {
	registeredMu.Lock()
	regs := slices.Collect(maps.Values(registered))
	registeredMu.Unlock()
	if len(regs) == 0 {
		return nil, fmt.Errorf("patch: no patcher registered (import a patcher package such as internal/patch/apt)")
	}
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("patch: no data directory for the patchers' downloads")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	slices.SortFunc(regs, func(a, b registration) int { return strings.Compare(a.name, b.name) })
	out := Patchers{}
	for _, r := range regs {
		p, err := r.factory(ctx, cfg)
		if err != nil {
			return nil, err
		}
		for _, fam := range r.families {
			out[fam] = p
		}
	}
	return out, nil
}

// Patchers maps each OS family to the patcher of its images.
type Patchers map[ospkg.Family]Patcher

// For returns the patcher of family. When there is none, the error is an
// *UnsupportedError: it matches ErrUnsupported and is permanent.
func (ps Patchers) For(family ospkg.Family) (Patcher, error) {
	if p, ok := ps[ospkg.NormalizeFamily(string(family))]; ok && p != nil {
		return p, nil
	}
	return nil, &UnsupportedError{Family: family, Supported: ps.Families()}
}

// Families returns the families that have a patcher, sorted.
func (ps Patchers) Families() []ospkg.Family {
	return slices.Sorted(maps.Keys(ps))
}

// UnsupportedError says no patcher handles an image's OS family.
type UnsupportedError struct {
	// Family is the image's OS family; empty when it is unknown.
	Family ospkg.Family
	// Supported are the families that have a patcher.
	Supported []ospkg.Family
}

// Error names the family and the supported ones.
func (e *UnsupportedError) Error() string {
	fam := string(e.Family)
	if fam == "" {
		fam = "(unknown)"
	}
	sup := make([]string, len(e.Supported))
	for i, f := range e.Supported {
		sup[i] = string(f)
	}
	if len(sup) == 0 {
		sup = []string{"none"}
	}
	return "no patcher for OS family " + fam + "; supported: " + strings.Join(sup, ", ")
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// Permanent returns true: another attempt finds the same family.
func (e *UnsupportedError) Permanent() bool { return true }
