package apt

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch"
)

// Errors a plan can fail with. All three are permanent
// (patch.IsPermanent): the same image and repositories give the same plan,
// so the engine does not retry them.
var (
	// ErrUnmetDependency: a package of the plan depends on something that
	// neither the image nor the configured repositories provide.
	ErrUnmetDependency = patch.Permanent(errors.New("unmet dependency"))
	// ErrConflict: the plan would install packages that break or conflict
	// with each other, and no available upgrade resolves it.
	ErrConflict = patch.Permanent(errors.New("conflicting packages"))
	// ErrNoConvergence: the dependency closure did not settle within its
	// bound.
	ErrNoConvergence = patch.Permanent(errors.New("dependency resolution did not converge"))
)

// maxRounds bounds the dependency closure; maxChanges the plan's size.
const (
	maxRounds  = 50
	maxChanges = 2000
)

// candidates is what the planner needs of an index.
type candidates interface {
	Candidates(name string) []archive.Candidate
}

// planner chooses the packages to upgrade and closes the choice over the
// packages' relationships.
type planner struct {
	arch  string
	index candidates
	log   *slog.Logger
	// orig is the installed system; state the planned one.
	orig, state system
	// unfixed collects findings the plan cannot fix.
	unfixed []patch.Unfixed
	changes int
}

// plan is the planner's answer.
type plan struct {
	// changes are the packages installed or upgraded, by name.
	changes []*pkgState
	fixed   []string
	unfixed []patch.Unfixed
}

// newPlanner starts from the installed packages of arch (and "all").
func newPlanner(db *dpkgDB, arch string, index candidates, log *slog.Logger) *planner {
	pl := &planner{arch: arch, index: index, log: log, orig: system{}, state: system{}}
	for name, r := range db.installedSet(arch) {
		pl.orig[name] = stateFromInstalled(r)
		pl.state[name] = stateFromInstalled(r)
	}
	return pl
}

// target is a binary package to upgrade to at least fixed.
type target struct {
	name   string
	fixed  string
	vulns  []string
	named  bool   // the findings name this binary
	source string // its source package
}

// targets turns findings into binaries to upgrade: every installed binary
// of the source package of a vulnerable binary, since Debian and Ubuntu
// advisories are keyed by source package. The fixed version of a source is
// the highest fixed version among its findings.
func (pl *planner) targets(findings []patch.Finding) []target {
	type srcInfo struct {
		fixed string
		vulns []string
		named map[string]bool
	}
	bySource := map[string]*srcInfo{}
	for _, f := range findings {
		ps, ok := pl.orig[f.PkgName]
		if !ok {
			pl.log.Debug("apt patcher: finding for a package not installed here", "package", f.PkgName, "vulnerability", f.VulnerabilityID)
			continue
		}
		src := ps.orig.Source
		si := bySource[src]
		if si == nil {
			si = &srcInfo{named: map[string]bool{}}
			bySource[src] = si
		}
		if si.fixed == "" || newer(f.FixedVersion, si.fixed) {
			si.fixed = f.FixedVersion
		}
		if !slices.Contains(si.vulns, f.VulnerabilityID) {
			si.vulns = append(si.vulns, f.VulnerabilityID)
		}
		si.named[f.PkgName] = true
	}
	var out []target
	for _, name := range sortedNames(pl.orig) {
		ps := pl.orig[name]
		si, ok := bySource[ps.orig.Source]
		if !ok {
			continue
		}
		vulns := slices.Clone(si.vulns)
		slices.Sort(vulns)
		out = append(out, target{name: name, fixed: si.fixed, vulns: vulns, named: si.named[name], source: ps.orig.Source})
	}
	return out
}

// candidatesFor returns the candidates of a package for the planner's
// architecture, highest first.
func (pl *planner) candidatesFor(name string) []archive.Candidate {
	cands := pl.index.Candidates(name)
	return slices.DeleteFunc(cands, func(c archive.Candidate) bool {
		return c.Architecture != pl.arch && c.Architecture != "all"
	})
}

// choose picks, for every target, the highest candidate, which must be
// newer than the installed version and at least the fixed version.
func (pl *planner) choose(targets []target) error {
	for _, t := range targets {
		cur := pl.state[t.name]
		if cur.orig.Want == "hold" {
			pl.skip(t, fmt.Sprintf("package is on hold (%s %s)", t.name, cur.version))
			continue
		}
		if cur.changed() {
			continue
		}
		cands := pl.candidatesFor(t.name)
		if len(cands) == 0 {
			pl.skip(t, fmt.Sprintf("%s: %s is not in the configured repositories", patch.ReasonNoFix, t.name))
			continue
		}
		best := cands[0]
		if !newer(best.Version, cur.version) || !fixes(best, t.fixed, cur.version) {
			pl.skip(t, fmt.Sprintf("%s: highest %s is %s (%s), fixed version is %s", patch.ReasonNoFix, t.name, best.Version, best.Suite, t.fixed))
			continue
		}
		reason := "fixes " + strings.Join(t.vulns, ", ")
		if !t.named {
			reason = fmt.Sprintf("same source package (%s) as vulnerable packages: %s", t.source, strings.Join(t.vulns, ", "))
		}
		if err := pl.apply(best, reason, t.vulns); err != nil {
			return err
		}
	}
	return nil
}

// skip records that a target cannot be fixed. Binaries the findings do not
// name are only logged.
func (pl *planner) skip(t target, reason string) {
	if !t.named {
		pl.log.Warn("apt patcher: not upgrading package of a vulnerable source", "package", t.name, "source", t.source, "reason", reason)
		return
	}
	for _, v := range t.vulns {
		pl.unfixed = append(pl.unfixed, patch.Unfixed{VulnerabilityID: v, PkgName: t.name, FixedVersion: t.fixed, Reason: reason})
	}
}

// apply makes the plan install candidate c.
func (pl *planner) apply(c archive.Candidate, reason string, vulns []string) error {
	pl.changes++
	if pl.changes > maxChanges {
		return fmt.Errorf("%w: more than %d package changes", ErrNoConvergence, maxChanges)
	}
	ps, err := stateFromCandidate(c)
	if err != nil {
		return err
	}
	if prev, ok := pl.state[c.Name]; ok {
		ps.orig = prev.orig
		if prev.changed() {
			reason, vulns = prev.reason, prev.vulns
		}
	}
	ps.reason, ps.vulns = reason, vulns
	pl.state[c.Name] = ps
	pl.log.Info("apt patcher: chose package", "package", c.Name, "version", c.Version, "suite", c.Suite, "reason", reason)
	return nil
}

// result returns the changes sorted by name, with the findings fixed.
func (pl *planner) result(findings []patch.Finding) *plan {
	out := &plan{unfixed: pl.unfixed}
	for _, name := range sortedNames(pl.state) {
		if ps := pl.state[name]; ps.changed() {
			out.changes = append(out.changes, ps)
		}
	}
	fixed := map[string]bool{}
	for _, f := range findings {
		orig, ok := pl.orig[f.PkgName]
		if !ok {
			continue
		}
		ps := pl.state[f.PkgName]
		ok = ps.changed() && fixes(*ps.cand, f.FixedVersion, orig.version)
		if prev, seen := fixed[f.VulnerabilityID]; seen {
			ok = ok && prev
		}
		fixed[f.VulnerabilityID] = ok
	}
	for id, ok := range fixed {
		if ok {
			out.fixed = append(out.fixed, id)
		}
	}
	slices.Sort(out.fixed)
	return out
}

// groupString renders a dependency group for messages.
func groupString(g deb.Alternatives) string { return g.String() }
