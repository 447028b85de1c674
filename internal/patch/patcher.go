package patch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Finding is one fixable vulnerability of one installed package, as a
// scanner reports it.
type Finding struct {
	// VulnerabilityID is the CVE or vendor ID.
	VulnerabilityID string `json:"vulnerabilityID"`
	// PkgName is the binary package name.
	PkgName string `json:"pkgName"`
	// InstalledVersion is the installed version as reported.
	InstalledVersion string `json:"installedVersion"`
	// FixedVersion is the first version without the vulnerability. For
	// Debian and Ubuntu it is a version of the source package.
	FixedVersion string `json:"fixedVersion"`
}

// Request is what a Patcher is asked to do with one image.
type Request struct {
	// Findings are the fixable vulnerabilities to fix.
	Findings []Finding
	// DryRun plans the upgrades without downloading packages or writing
	// a layer.
	DryRun bool
	// WorkDir holds temporary files (the layer, package contents); the
	// caller removes it. Empty means the system temporary directory.
	WorkDir string
}

// TempDir returns the directory a patcher keeps its temporary files in:
// WorkDir, else the system temporary directory.
func (r Request) TempDir() string {
	if r.WorkDir == "" {
		return os.TempDir()
	}
	return r.WorkDir
}

// Fixable returns, in order, the findings with a fixed version: the only
// ones a patch can fix.
func (r Request) Fixable() []Finding {
	return slices.DeleteFunc(slices.Clone(r.Findings), func(f Finding) bool { return f.FixedVersion == "" })
}

// Update is one package the patch installs or upgrades.
type Update struct {
	Name string `json:"name"`
	Arch string `json:"arch,omitempty"`
	// From is the installed version; empty for a package newly installed
	// to satisfy a dependency.
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	// Reason says why the package is in the plan ("fixes CVE-…",
	// "dependency of libfoo", …).
	Reason string `json:"reason"`
	// Vulnerabilities lists the findings this update fixes.
	Vulnerabilities []string `json:"vulnerabilities,omitempty"`
}

// Unfixed is a finding the patch leaves in place, and why.
type Unfixed struct {
	VulnerabilityID string `json:"vulnerabilityID"`
	PkgName         string `json:"pkgName"`
	FixedVersion    string `json:"fixedVersion,omitempty"`
	Reason          string `json:"reason"`
}

// ReasonNoFix is the Unfixed reason of a finding whose fixed version the
// configured repositories do not offer.
const ReasonNoFix = "no fix available in the configured repositories"

// Outcome is what a Patcher did (or, in a dry run, would do) to one image.
type Outcome struct {
	// Updates are the packages upgraded or installed, sorted by name.
	Updates []Update `json:"updates"`
	// Fixed lists the vulnerability IDs every affected package of which is
	// upgraded to a fixed version, sorted.
	Fixed []string `json:"fixed"`
	// Unfixed are the findings left in place.
	Unfixed []Unfixed `json:"unfixed,omitempty"`
	// SkippedScripts names, per package, the maintainer scripts that were
	// not run.
	SkippedScripts []SkippedScripts `json:"skippedScripts,omitempty"`
	// Layer is the patch layer; nil in a dry run or when nothing changes.
	Layer v1.Layer `json:"-"`
	// LayerHistory describes the layer for the image history.
	LayerHistory string `json:"-"`
}

// NewOutcome returns an outcome that changes nothing, its lists empty
// rather than nil (they encode as [] in JSON); a patcher fills it in.
func NewOutcome() *Outcome {
	return &Outcome{Updates: []Update{}, Fixed: []string{}}
}

// SkippedScripts lists the maintainer scripts of one package that were not
// run.
type SkippedScripts struct {
	Package string   `json:"package"`
	Scripts []string `json:"scripts"`
}

// Patcher upgrades the OS packages of images that use one package manager.
// A package manager plugs in by implementing it and calling Register from
// its package's init with the OS families it handles; see docs/patcher.md.
type Patcher interface {
	// Name names the package manager ("apt").
	Name() string
	// Patch plans the upgrades that fix req.Findings in img and, unless
	// req.DryRun, builds the layer that applies them. An error retrying
	// cannot fix is marked with Permanent.
	Patch(ctx context.Context, img v1.Image, req Request) (*Outcome, error)
}

// ErrUnsupported is matched (errors.Is) when no Patcher handles an image's
// OS family; the error itself is an *UnsupportedError.
var ErrUnsupported = errors.New("no patcher for this image")

// History describes a patch layer for the image history: the package
// manager, each update ("name from -> to", or "name (new) to") and the
// vulnerabilities fixed.
func History(manager string, updates []Update, fixed []string) string {
	parts := make([]string, 0, len(updates))
	for _, u := range updates {
		if u.From == "" {
			parts = append(parts, fmt.Sprintf("%s (new) %s", u.Name, u.To))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s -> %s", u.Name, u.From, u.To))
		}
	}
	s := "patchloop " + manager + ": " + strings.Join(parts, ", ")
	if len(fixed) > 0 {
		s += "; fixes " + strings.Join(fixed, ", ")
	}
	return s
}
