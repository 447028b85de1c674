package rpm

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/rpm"
)

// provider is one package providing a name.
type provider struct {
	pkg *Package
	dep Dep
}

// providers indexes packages by what they provide: their names,
// provides and files.
type providers map[string][]provider

// add indexes p.
func (pv providers) add(p *Package) {
	for _, d := range p.selfProvides() {
		pv[d.Name] = append(pv[d.Name], provider{p, d})
	}
	for _, d := range p.Provides {
		pv[d.Name] = append(pv[d.Name], provider{p, d})
	}
	for _, f := range p.Files {
		pv[f.Path] = append(pv[f.Path], provider{p, Dep{Name: f.Path}})
	}
}

// meets reports whether some package meets the leaf dependency d.
func (pv providers) meets(d Dep) bool {
	if d.Flags&rpm.SenseRPMLib != 0 || strings.HasPrefix(d.Name, "rpmlib(") {
		return true
	}
	for _, p := range pv[d.Name] {
		if overlaps(d, p.dep) {
			return true
		}
	}
	return false
}

// satisfied reports whether d (leaf or rich) holds.
func (pv providers) satisfied(d Dep) bool {
	if !d.Rich() {
		return pv.meets(d)
	}
	e, err := parseRich(d.Name)
	if err != nil {
		return true // unparsable: not ours to judge
	}
	return e.eval(pv.meets)
}

// planned returns the providers of the planned system.
func (pl *planner) planned() providers {
	pv := providers{}
	for _, n := range pl.state {
		if !n.removed() {
			pv.add(n.pkg())
		}
	}
	for _, p := range pl.extra {
		pv.add(p)
	}
	return pv
}

// close adds what the planned packages need until every Requires of a
// changed package (and every Requires the image met before) is met,
// applies Obsoletes, and checks Conflicts.
func (pl *planner) close() error {
	for range maxRounds {
		progress := false
		pl.obsolete()
		now := pl.planned()
		for _, k := range slices.Sorted(maps.Keys(pl.state)) {
			n := pl.state[k]
			if n.removed() {
				continue
			}
			for _, dep := range n.pkg().Requires {
				if now.satisfied(dep) {
					continue
				}
				if !n.changed() && !pl.before.satisfied(dep) {
					continue // broken before the patch; not ours to fix
				}
				if n.changed() || !pl.upgradeDependent(n, dep) {
					if err := pl.resolve(n, dep, now); err != nil {
						return err
					}
				}
				progress = true
				pl.obsolete()
				now = pl.planned()
			}
		}
		if progress {
			continue
		}
		again, err := pl.conflicts(now)
		if err != nil {
			return err
		}
		if !again {
			return nil
		}
	}
	return fmt.Errorf("%w after %d rounds", patch.ErrNoConvergence, maxRounds)
}

// obsolete removes the installed packages a changed package obsoletes
// (by name and version, as dnf matches them).
func (pl *planner) obsolete() {
	for _, k := range slices.Sorted(maps.Keys(pl.state)) {
		n := pl.state[k]
		if !n.changed() || n.removed() {
			continue
		}
		for _, o := range n.cand.Obsoletes {
			for _, ok := range slices.Sorted(maps.Keys(pl.state)) {
				m := pl.state[ok]
				if m == n || m.removed() || m.changed() || m.inst == nil || m.inst.Name != o.Name || m.inst.Name == n.cand.Name {
					continue
				}
				if matchesEVR(o, m.inst.EVR) {
					m.obsoletedBy = n.cand.NEVRA()
					n.reason += "; obsoletes " + m.inst.NEVRA()
					pl.log.Info("rpm patcher: package obsoleted", "package", m.inst.NEVRA(), "by", m.obsoletedBy)
				}
			}
		}
	}
}

// upgradeDependent upgrades an installed package whose dependency the
// plan broke (an exact-version Requires on an upgraded sibling) to its
// highest version, when that is newer; it reports whether it did.
func (pl *planner) upgradeDependent(n *node, dep Dep) bool {
	return pl.upgradeHighest(n, fmt.Sprintf("its dependency %s is no longer met after the upgrade", dep))
}

// upgradeHighest upgrades an installed package to its highest version,
// when that is newer, for reason; it reports whether it did.
func (pl *planner) upgradeHighest(n *node, reason string) bool {
	cands := pl.upgradesFor(n)
	if len(cands) == 0 || cands[0].EVR.Compare(n.inst.EVR) <= 0 {
		return false
	}
	pl.apply(n, cands[0], reason, nil)
	return true
}

// resolve meets dep of n, a leaf or a rich dependency.
func (pl *planner) resolve(n *node, dep Dep, now providers) error {
	leaves := []Dep{dep}
	if dep.Rich() {
		e, err := parseRich(dep.Name)
		if err != nil {
			return fmt.Errorf("%w: %s requires %s: %w", patch.ErrUnmetDependency, n.pkg(), dep.Name, err)
		}
		var ok bool
		leaves, ok = e.needs(now.meets, func(d Dep) bool { return now.meets(d) || pl.best(n, d) != nil })
		if !ok {
			return fmt.Errorf("%w: %s requires %s, which neither the image nor the repositories can meet", patch.ErrUnmetDependency, n.pkg(), dep.Name)
		}
	}
	for _, d := range leaves {
		if now.meets(d) {
			continue
		}
		best := pl.best(n, d)
		if best == nil {
			err := fmt.Errorf("%w: %s requires %s, which neither the image nor the repositories provide", patch.ErrUnmetDependency, n.pkg(), d)
			if strings.HasPrefix(d.Name, "/") {
				return &fileDepError{err: err, path: d.Name}
			}
			return err
		}
		slot := pl.state[best.key()]
		reason := "dependency of " + n.pkg().Name
		if slot == nil || slot.inst == nil {
			reason = "new dependency of " + n.pkg().Name
		}
		pl.apply(slot, best, reason, nil)
		now = pl.planned()
	}
	return nil
}

// best returns the candidate to meet the leaf dependency d of n: an
// upgrade of an installed package first, then the requirer's
// architecture, then noarch, then the highest version; nil when none.
func (pl *planner) best(n *node, d Dep) *Candidate {
	var best *Candidate
	bestRank := -1
	for _, c := range pl.index.Providers(d) {
		if !provides(c.Package, d) {
			continue
		}
		slot := pl.state[c.key()]
		if slot != nil && (slot.changed() || slot.removed()) {
			continue // already chosen; another version would undo that choice
		}
		if slot != nil && slot.inst != nil && (c.EVR.Compare(slot.inst.EVR) <= 0 || !sameStream(slot.inst, c)) {
			continue // never downgrade, never switch streams
		}
		rank := 0
		if slot != nil {
			rank += 4
		}
		switch c.Arch {
		case n.pkg().Arch:
			rank += 2
		case "noarch":
			rank++
		default:
			if n.pkg().Arch != "noarch" {
				continue // never pull a foreign-architecture package
			}
		}
		if rank > bestRank { // candidates come highest version first
			best, bestRank = c, rank
		}
	}
	return best
}

// provides reports whether p meets the leaf dependency d by itself.
func provides(p *Package, d Dep) bool {
	pv := providers{}
	pv.add(p)
	return pv.meets(d)
}

// conflicts checks Conflicts between changed packages and the planned
// system in both directions; an unchanged side is upgraded when that
// resolves it (again reports that the closure must run once more),
// otherwise it is patch.ErrConflict.
func (pl *planner) conflicts(now providers) (again bool, err error) {
	for _, k := range slices.Sorted(maps.Keys(pl.state)) {
		n := pl.state[k]
		if n.removed() {
			continue
		}
		for _, c := range n.pkg().Conflicts {
			for _, pr := range now[c.Name] {
				if pr.pkg == n.pkg() || !overlaps(c, pr.dep) {
					continue
				}
				other := pl.slotOf(pr.pkg)
				if !n.changed() && (other == nil || !other.changed()) {
					continue // both as they were: not ours
				}
				if !n.changed() && pl.upgradeHighest(n, fmt.Sprintf("it conflicts with %s (%s)", pr.pkg, c)) {
					return true, nil
				}
				if other != nil && !other.changed() && other.inst != nil && pl.upgradeHighest(other, fmt.Sprintf("%s conflicts with it (%s)", n.pkg(), c)) {
					return true, nil
				}
				return false, fmt.Errorf("%w: %s conflicts with %s (%s)", patch.ErrConflict, n.pkg(), pr.pkg, c)
			}
		}
	}
	return false, nil
}

// slotOf returns the node planning p, or nil.
func (pl *planner) slotOf(p *Package) *node {
	n := pl.state[p.key()]
	if n != nil && n.pkg() == p {
		return n
	}
	return nil
}

// fileDepError is an unmet dependency on a file: the repositories'
// complete file lists (filelists.xml) may meet it where primary.xml's
// short ones did not.
type fileDepError struct {
	err  error
	path string
}

// Error returns the unmet dependency's message.
func (e *fileDepError) Error() string { return e.err.Error() }

// Unwrap returns the patch.ErrUnmetDependency error.
func (e *fileDepError) Unwrap() error { return e.err }
