package apt

import (
	"fmt"
	"slices"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch"
)

// close extends the plan until every Depends and Pre-Depends of the planned
// system that held before (or belongs to a planned package) holds again,
// and no Breaks or Conflicts the plan introduces remains. Unmet
// dependencies of planned packages are installed or upgraded from the
// index; installed packages whose dependencies the plan breaks, and
// installed packages a planned one breaks, are upgraded to their highest
// candidate. Each round only raises versions, so the closure ends; it is
// also bounded by maxRounds.
func (pl *planner) close() error {
	for round := 0; ; round++ {
		if round == maxRounds {
			return fmt.Errorf("%w after %d rounds", patch.ErrNoConvergence, maxRounds)
		}
		progressed, err := pl.closeDepends()
		if err != nil {
			return err
		}
		if progressed {
			continue
		}
		if progressed, err = pl.closeConflicts(); err != nil {
			return err
		}
		if !progressed {
			return nil
		}
	}
}

// closeDepends handles the first unmet dependency of each package.
func (pl *planner) closeDepends() (bool, error) {
	progressed := false
	for _, name := range sortedNames(pl.state) {
		ps := pl.state[name]
		for _, g := range slices.Concat(ps.preDepends, ps.depends) {
			if pl.state.satisfied(g) {
				continue
			}
			if !ps.changed() {
				if !pl.orig.satisfied(g) {
					continue // broken before the plan: not ours to fix
				}
				if err := pl.upgradeDependent(ps, g); err != nil {
					return false, err
				}
				progressed = true
				break
			}
			if err := pl.install(ps, g); err != nil {
				return false, err
			}
			progressed = true
		}
	}
	return progressed, nil
}

// install satisfies a dependency group of a planned package with the first
// alternative the index offers: the highest candidate meeting its
// constraint, newer than what the plan has.
func (pl *planner) install(dependent *pkgState, g deb.Alternatives) error {
	for _, r := range g {
		cur := pl.state[r.Name]
		for _, c := range pl.candidatesFor(r.Name) {
			if !satisfiesOp(c.Version, r.Op, r.Version) {
				continue
			}
			if cur != nil && !newer(c.Version, cur.version) {
				break
			}
			reason := fmt.Sprintf("dependency of %s %s (%s)", dependent.name, dependent.version, groupString(g))
			return pl.apply(c, reason, nil)
		}
	}
	return fmt.Errorf("%w: %s %s depends on %q, which neither the image nor the configured repositories satisfy",
		patch.ErrUnmetDependency, dependent.name, dependent.version, groupString(g))
}

// upgradeDependent upgrades an installed package whose dependency the plan
// broke (a dependency on an exact version of an upgraded library).
func (pl *planner) upgradeDependent(ps *pkgState, g deb.Alternatives) error {
	cands := pl.candidatesFor(ps.name)
	if len(cands) == 0 || !newer(cands[0].Version, ps.version) {
		return fmt.Errorf("%w: the upgrade breaks %s %s, which depends on %q and has no newer version in the configured repositories",
			patch.ErrUnmetDependency, ps.name, ps.version, groupString(g))
	}
	reason := fmt.Sprintf("keeps its dependency %q met after the upgrade", groupString(g))
	return pl.apply(cands[0], reason, nil)
}

// closeConflicts finds a Breaks or Conflicts relation the plan introduces
// and resolves it by upgrading the unchanged side, or fails.
func (pl *planner) closeConflicts() (bool, error) {
	for _, name := range sortedNames(pl.state) {
		ps := pl.state[name]
		for _, kind := range []struct {
			field string
			rels  []deb.Alternatives
		}{{"breaks", ps.breaks}, {"conflicts with", ps.conflicts}} {
			for _, g := range kind.rels {
				for _, r := range g {
					other := pl.state.offender(ps, r)
					if other == nil || (!ps.changed() && !other.changed()) {
						continue
					}
					fixedSide := other
					if other.changed() {
						fixedSide = ps
					}
					if !fixedSide.changed() {
						cands := pl.candidatesFor(fixedSide.name)
						if len(cands) > 0 && newer(cands[0].Version, fixedSide.version) {
							reason := fmt.Sprintf("%s %s %s %s", ps.name, ps.version, kind.field, r)
							if err := pl.apply(cands[0], reason, nil); err != nil {
								return false, err
							}
							return true, nil
						}
					}
					return false, fmt.Errorf("%w: %s %s %s %s (%s %s installed), and no upgrade in the configured repositories resolves it",
						patch.ErrConflict, ps.name, ps.version, kind.field, r, other.name, other.version)
				}
			}
		}
	}
	return false, nil
}
