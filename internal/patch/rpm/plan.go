package rpm

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/patch"
)

// maxRounds bounds the dependency closure.
const maxRounds = 50

// node is one package slot (name.arch) of the planned system.
type node struct {
	key string
	// inst is the installed package; nil for a new one.
	inst *Package
	// cand is the package to install; nil when unchanged.
	cand *Candidate
	// obsoletedBy names the planned package that replaces this one.
	obsoletedBy string
	reason      string
	vulns       []string
}

// pkg returns the package as planned.
func (n *node) pkg() *Package {
	if n.cand != nil {
		return n.cand.Package
	}
	return n.inst
}

// changed reports whether the plan installs or upgrades the package.
func (n *node) changed() bool { return n.cand != nil }

// removed reports whether the plan removes the package (obsoleted).
func (n *node) removed() bool { return n.obsoletedBy != "" }

// planner chooses the packages to upgrade and closes the choice over
// their dependencies.
type planner struct {
	index *Index
	log   *slog.Logger
	state map[string]*node
	// extra are installed packages sharing a slot with a newer one
	// (install-only packages such as kernels): kept, never changed.
	extra []*Package
	// before provides what the image provided before the patch.
	before  providers
	unfixed []patch.Unfixed
}

// newPlanner starts from the installed packages.
func newPlanner(installed []*Package, index *Index, log *slog.Logger) *planner {
	pl := &planner{index: index, log: log, state: map[string]*node{}, before: providers{}}
	for _, p := range installed {
		pl.before.add(p)
		if n, ok := pl.state[p.key()]; ok {
			if n.inst.EVR.Compare(p.EVR) >= 0 {
				pl.extra = append(pl.extra, p)
				continue
			}
			pl.extra = append(pl.extra, n.inst)
		}
		pl.state[p.key()] = &node{key: p.key(), inst: p}
	}
	return pl
}

// targets turns findings into packages to upgrade: every installed
// binary package of the source RPM of a vulnerable package (multilib
// twins included), since advisories are per source package.
func (pl *planner) targets(findings []patch.Finding) []patch.Target {
	var installed []patch.Installed
	for _, k := range slices.Sorted(maps.Keys(pl.state)) {
		n := pl.state[k]
		installed = append(installed, patch.Installed{Key: k, Name: n.inst.Name, Source: n.inst.SourceName()})
	}
	return patch.Targets(pl.log, "rpm", findings, installed, CompareVersion)
}

// upgradesFor returns the candidates that may replace the installed
// package of n: same name, a compatible architecture, the same module
// stream for modular packages, highest first.
func (pl *planner) upgradesFor(n *node) []*Candidate {
	var out []*Candidate
	for _, c := range pl.index.Named(n.inst.Name) {
		if !compatibleArch(n.inst.Arch, c.Arch) {
			continue
		}
		if c.Arch != n.inst.Arch && pl.state[c.key()] != nil && pl.state[c.key()] != n {
			continue // another installed slot (a multilib twin) owns that arch
		}
		if !sameStream(n.inst, c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// sameStream reports whether a candidate may replace an installed
// package as far as modules go: a modular package only by a package of
// the same stream (by the candidate's module, else by its release naming
// a module build), a non-modular one only by a non-modular one.
func sameStream(inst *Package, c *Candidate) bool {
	want := modularStream(inst.ModularityLabel)
	switch {
	case want == "" && c.Module == "":
		return c.ModularityLabel == ""
	case want == "":
		return false
	case c.Module != "":
		return c.Module == want
	case c.ModularityLabel != "":
		return modularStream(c.ModularityLabel) == want
	default:
		return strings.Contains(c.EVR.Release, ".module")
	}
}

// choose picks, for every target, the highest candidate; it must be newer
// than the installed version and at least the fixed one.
func (pl *planner) choose(targets []patch.Target) {
	for _, t := range targets {
		n := pl.state[t.Key]
		cands := pl.upgradesFor(n)
		if len(cands) == 0 {
			pl.skip(t, n, fmt.Sprintf("%s: %s is not in the configured repositories", patch.ReasonNoFix, n.inst.Name))
			continue
		}
		best := cands[0]
		if best.EVR.Compare(n.inst.EVR) <= 0 || CompareVersion(best.EVR.String(), t.Fixed) < 0 {
			pl.skip(t, n, fmt.Sprintf("%s: highest %s is %s, fixed version is %s", patch.ReasonNoFix, n.inst.Name, best.EVR, t.Fixed))
			continue
		}
		pl.apply(n, best, t.Reason("source package"), t.Vulns)
	}
}

// skip records that a target cannot be fixed; packages the findings do
// not name are only logged.
func (pl *planner) skip(t patch.Target, n *node, reason string) {
	if !t.Named {
		pl.log.Warn("rpm patcher: not upgrading package of a vulnerable source package", "package", n.inst.NEVRA(), "source", t.Source, "reason", reason)
		return
	}
	pl.unfixed = append(pl.unfixed, t.Unfixed(reason)...)
}

// apply makes the plan install c in n's slot (a new slot when n is nil).
func (pl *planner) apply(n *node, c *Candidate, reason string, vulns []string) {
	if n == nil {
		n = &node{key: c.key()}
		pl.state[n.key] = n
	}
	if !n.changed() {
		n.reason, n.vulns = reason, vulns
	}
	n.cand = c
	pl.log.Info("rpm patcher: chose package", "package", c.NEVRA(), "repo", c.Repo, "reason", n.reason)
}

// plan is the planner's answer.
type plan struct {
	// changes are the installed or upgraded packages, by slot.
	changes []*node
	// removals are the installed packages obsoleted.
	removals []*node
	fixed    []string
	unfixed  []patch.Unfixed
}

// result returns the changes sorted by name and arch and the findings fixed: a
// vulnerability is fixed when every installed package it names is
// upgraded to at least its fixed version, or obsoleted.
func (pl *planner) result(findings []patch.Finding) *plan {
	out := &plan{unfixed: pl.unfixed}
	byName := map[string][]*node{}
	for _, k := range slices.Sorted(maps.Keys(pl.state)) {
		n := pl.state[k]
		switch {
		case n.removed():
			out.removals = append(out.removals, n)
		case n.changed():
			out.changes = append(out.changes, n)
		}
		if n.inst != nil {
			byName[n.inst.Name] = append(byName[n.inst.Name], n)
		}
	}
	byNameArch := func(a, b *node) int {
		if c := strings.Compare(a.pkg().Name, b.pkg().Name); c != 0 {
			return c
		}
		return strings.Compare(a.pkg().Arch, b.pkg().Arch)
	}
	slices.SortFunc(out.changes, byNameArch)
	slices.SortFunc(out.removals, byNameArch)
	out.fixed = patch.FixedIDs(findings, func(f patch.Finding) (bool, bool) {
		ns := byName[f.PkgName]
		if len(ns) == 0 {
			return false, false
		}
		ok := true
		for _, n := range ns {
			ok = ok && (n.removed() || n.changed() && CompareVersion(n.cand.EVR.String(), f.FixedVersion) >= 0)
		}
		return ok, true
	})
	return out
}
