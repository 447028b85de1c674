package apk

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
)

// maxRounds bounds the dependency closure.
const maxRounds = 50

// node is one package of the planned system.
type node struct {
	name string
	// inst is the installed package; nil for a new one.
	inst *apk.InstalledPackage
	// cand is the package to install; nil when unchanged.
	cand   *apk.Candidate
	reason string
	vulns  []string
}

// pkg returns the package as planned.
func (n *node) pkg() *apk.Package {
	if n.cand != nil {
		return n.cand.Package
	}
	return n.inst.Package
}

// changed reports whether the plan installs or upgrades the package.
func (n *node) changed() bool { return n.cand != nil }

// planner chooses the packages to upgrade and closes the choice over
// their dependencies.
type planner struct {
	index *apk.Index
	world map[string]string
	log   *slog.Logger
	state map[string]*node
	// orig says which dependencies the image itself met.
	orig    map[string]*apk.Package
	unfixed []patch.Unfixed
}

// newPlanner starts from the installed packages.
func newPlanner(db *apk.Installed, index *apk.Index, world map[string]string, log *slog.Logger) *planner {
	pl := &planner{index: index, world: world, log: log, state: map[string]*node{}, orig: map[string]*apk.Package{}}
	for _, p := range db.Packages {
		pl.state[p.Name] = &node{name: p.Name, inst: p}
		pl.orig[p.Name] = p.Package
	}
	return pl
}

// targets turns findings into packages to upgrade: every installed
// package of the origin of a vulnerable package, since Alpine's
// advisories are keyed by origin.
func (pl *planner) targets(findings []patch.Finding) []patch.Target {
	var installed []patch.Installed
	for _, name := range sortedKeys(pl.state) {
		installed = append(installed, patch.Installed{Key: name, Name: name, Source: pl.state[name].inst.Origin})
	}
	return patch.Targets(pl.log, "apk", findings, installed, compare)
}

// compare orders apk versions; an unparsable one sorts lowest.
func compare(a, b string) int {
	c, err := ospkg.Apk.Compare(a, b)
	if err != nil {
		if _, e := ospkg.Apk.Compare(a, a); e != nil {
			return -1
		}
		return 1
	}
	return c
}

// allowed reports whether a candidate may be installed: a pinned
// repository's packages only for world entries pinned to its tag.
func (pl *planner) allowed(c apk.Candidate) bool {
	return c.Source.Tag == "" || pl.world[c.Name] == c.Source.Tag
}

// choose picks, for every target, the highest candidate; it must be newer
// than the installed version and at least the fixed one.
func (pl *planner) choose(targets []patch.Target) {
	for _, t := range targets {
		n := pl.state[t.Name]
		cands := slices.DeleteFunc(pl.index.Candidates(t.Name), func(c apk.Candidate) bool { return !pl.allowed(c) })
		if len(cands) == 0 {
			pl.skip(t, fmt.Sprintf("%s: %s is not in the configured repositories", patch.ReasonNoFix, t.Name))
			continue
		}
		best := cands[0]
		if compare(best.Version, n.inst.Version) <= 0 || compare(best.Version, t.Fixed) < 0 {
			pl.skip(t, fmt.Sprintf("%s: highest %s is %s, fixed version is %s", patch.ReasonNoFix, t.Name, best.Version, t.Fixed))
			continue
		}
		pl.apply(best, t.Reason("origin"), t.Vulns)
	}
}

// skip records that a target cannot be fixed; packages the findings do
// not name are only logged.
func (pl *planner) skip(t patch.Target, reason string) {
	if !t.Named {
		pl.log.Warn("apk patcher: not upgrading package of a vulnerable origin", "package", t.Name, "origin", t.Source, "reason", reason)
		return
	}
	pl.unfixed = append(pl.unfixed, t.Unfixed(reason)...)
}

// apply makes the plan install c.
func (pl *planner) apply(c apk.Candidate, reason string, vulns []string) {
	n := pl.state[c.Name]
	if n == nil {
		n = &node{name: c.Name}
		pl.state[c.Name] = n
	}
	if !n.changed() {
		n.reason, n.vulns = reason, vulns
	}
	n.cand = &c
	pl.log.Info("apk patcher: chose package", "package", c.Name, "version", c.Version, "reason", n.reason)
}

// providers indexes packages by the names they are known by: their own
// and their provides.
type providers map[string][]*apk.Package

// add indexes p.
func (pv providers) add(p *apk.Package) {
	pv[p.Name] = append(pv[p.Name], p)
	for _, pr := range p.Provides {
		if pr.Name != p.Name {
			pv[pr.Name] = append(pv[pr.Name], p)
		}
	}
}

// meets reports whether a package other than self meets dep.
func (pv providers) meets(dep apk.Dep, self *apk.Package) bool {
	for _, p := range pv[dep.Name] {
		if p != self && dep.ProvidedBy(p) {
			return true
		}
	}
	return false
}

// close adds what the planned packages need until every dependency of a
// changed package (and every dependency the image met before) is met.
func (pl *planner) close() error {
	before := providers{}
	for _, p := range pl.orig {
		before.add(p)
	}
	for range maxRounds {
		progress := false
		now := providers{}
		for _, n := range pl.state {
			now.add(n.pkg())
		}
		for _, name := range sortedKeys(pl.state) {
			n := pl.state[name]
			for _, dep := range n.pkg().Depends {
				if dep.Conflict {
					if err := pl.checkConflict(n, dep); err != nil {
						return err
					}
					continue
				}
				if now.meets(dep, n.pkg()) || pl.state[dep.Name] != nil && dep.ProvidedBy(pl.state[dep.Name].pkg()) {
					continue
				}
				if !n.changed() && !before.meets(dep, nil) {
					continue // broken before the patch; not ours to fix
				}
				// An unchanged package is upgraded first (its new version's
				// dependencies are checked next round); otherwise what it
				// needs is found.
				if n.changed() || !pl.upgradeDependent(n, dep) {
					if err := pl.resolve(n, dep); err != nil {
						return err
					}
				}
				now = providers{}
				for _, n := range pl.state {
					now.add(n.pkg())
				}
				progress = true
			}
		}
		if !progress {
			return nil
		}
	}
	return fmt.Errorf("%w after %d rounds", patch.ErrNoConvergence, maxRounds)
}

// upgradeDependent upgrades an installed package whose dependency the
// plan broke (a library's new version no longer provides the soname it
// links) to its highest version, when that is newer; it reports whether
// it did.
func (pl *planner) upgradeDependent(n *node, dep apk.Dep) bool {
	for _, c := range pl.index.Candidates(n.name) {
		if !pl.allowed(c) {
			continue
		}
		if compare(c.Version, n.inst.Version) <= 0 {
			return false
		}
		pl.apply(c, fmt.Sprintf("its dependency %s is no longer met after the upgrade", dep), nil)
		return true
	}
	return false
}

// checkConflict fails when a changed package conflicts with the planned
// system, or the planned system with a changed package.
func (pl *planner) checkConflict(n *node, dep apk.Dep) error {
	for _, name := range sortedKeys(pl.state) {
		o := pl.state[name]
		if name == n.name || (!n.changed() && !o.changed()) {
			continue
		}
		if dep.ProvidedBy(o.pkg()) {
			return fmt.Errorf("%w: %s conflicts with %s (%s)", patch.ErrConflict, n.pkg(), o.pkg(), dep)
		}
	}
	return nil
}

// resolve meets dep of n: by upgrading an installed package, else by
// installing a new one. Installed providers come first, then higher
// provider priority, then higher versions.
func (pl *planner) resolve(n *node, dep apk.Dep) error {
	var best *apk.Candidate
	bestRank := -1
	for _, c := range pl.index.Providers(dep.Name) {
		if !pl.allowed(c) || !dep.ProvidedBy(c.Package) {
			continue
		}
		cur, installed := pl.state[c.Name]
		if installed && cur.changed() {
			continue // already chosen; another version would undo that choice
		}
		if installed && compare(c.Version, cur.inst.Version) <= 0 {
			continue // never downgrade
		}
		rank := c.ProviderPriority
		if installed {
			rank += 1 << 20
		}
		if rank > bestRank {
			c := c
			best, bestRank = &c, rank
		}
	}
	if best == nil {
		return fmt.Errorf("%w: %s depends on %s, which neither the image nor the repositories provide", patch.ErrUnmetDependency, n.pkg(), dep)
	}
	reason := "dependency of " + n.name
	if _, installed := pl.state[best.Name]; !installed {
		reason = "new dependency of " + n.name
	}
	pl.apply(*best, reason, nil)
	return nil
}

// plan is the planner's answer.
type plan struct {
	changes []*node
	fixed   []string
	unfixed []patch.Unfixed
}

// result returns the changes sorted by name and the findings fixed: a
// vulnerability is fixed when every package it names is upgraded to at
// least its fixed version.
func (pl *planner) result(findings []patch.Finding) *plan {
	out := &plan{unfixed: pl.unfixed}
	for _, name := range sortedKeys(pl.state) {
		if n := pl.state[name]; n.changed() {
			out.changes = append(out.changes, n)
		}
	}
	out.fixed = patch.FixedIDs(findings, func(f patch.Finding) (bool, bool) {
		n, ok := pl.state[f.PkgName]
		if !ok || n.inst == nil {
			return false, false
		}
		return n.changed() && compare(n.cand.Version, f.FixedVersion) >= 0, true
	})
	return out
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
