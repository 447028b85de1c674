package apt

import (
	"fmt"
	"log/slog"
	"slices"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch"
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

// targets turns findings into binaries to upgrade: every installed binary
// of the source package of a vulnerable binary, since Debian and Ubuntu
// advisories are keyed by source package.
func (pl *planner) targets(findings []patch.Finding) []patch.Target {
	var installed []patch.Installed
	for _, name := range sortedNames(pl.orig) {
		installed = append(installed, patch.Installed{Key: name, Name: name, Source: pl.orig[name].orig.Source})
	}
	return patch.Targets(pl.log, "apt", findings, installed, func(a, b string) int {
		if newer(a, b) {
			return 1
		}
		return 0
	})
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
func (pl *planner) choose(targets []patch.Target) error {
	for _, t := range targets {
		cur := pl.state[t.Name]
		if cur.orig.Want == "hold" {
			pl.skip(t, fmt.Sprintf("package is on hold (%s %s)", t.Name, cur.version))
			continue
		}
		if cur.changed() {
			continue
		}
		cands := pl.candidatesFor(t.Name)
		if len(cands) == 0 {
			pl.skip(t, fmt.Sprintf("%s: %s is not in the configured repositories", patch.ReasonNoFix, t.Name))
			continue
		}
		best := cands[0]
		if !newer(best.Version, cur.version) || !fixes(best, t.Fixed, cur.version) {
			pl.skip(t, fmt.Sprintf("%s: highest %s is %s (%s), fixed version is %s", patch.ReasonNoFix, t.Name, best.Version, best.Suite, t.Fixed))
			continue
		}
		if err := pl.apply(best, t.Reason("source package"), t.Vulns); err != nil {
			return err
		}
	}
	return nil
}

// skip records that a target cannot be fixed. Binaries the findings do not
// name are only logged.
func (pl *planner) skip(t patch.Target, reason string) {
	if !t.Named {
		pl.log.Warn("apt patcher: not upgrading package of a vulnerable source", "package", t.Name, "source", t.Source, "reason", reason)
		return
	}
	pl.unfixed = append(pl.unfixed, t.Unfixed(reason)...)
}

// apply makes the plan install candidate c.
func (pl *planner) apply(c archive.Candidate, reason string, vulns []string) error {
	pl.changes++
	if pl.changes > maxChanges {
		return fmt.Errorf("%w: more than %d package changes", patch.ErrNoConvergence, maxChanges)
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
	out.fixed = patch.FixedIDs(findings, func(f patch.Finding) (bool, bool) {
		orig, ok := pl.orig[f.PkgName]
		if !ok {
			return false, false
		}
		ps := pl.state[f.PkgName]
		return ps.changed() && fixes(*ps.cand, f.FixedVersion, orig.version), true
	})
	return out
}

// groupString renders a dependency group for messages.
func groupString(g deb.Alternatives) string { return g.String() }
