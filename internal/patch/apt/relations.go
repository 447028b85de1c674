package apt

import (
	"fmt"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
)

// pkgState is one package of the planned system.
type pkgState struct {
	name, arch, version string
	multiArch           string
	// Relationship fields, parsed.
	depends, preDepends, breaks, conflicts, provides []deb.Alternatives
	// orig is the installed record; nil for a package the plan installs.
	orig *installed
	// cand is the version the plan installs; nil while unchanged.
	cand *archive.Candidate
	// reason and vulns say why the plan changes the package.
	reason string
	vulns  []string
}

// changed reports whether the plan installs or upgrades the package.
func (ps *pkgState) changed() bool { return ps.cand != nil }

// stateFromInstalled describes an installed package.
func stateFromInstalled(r *installed) *pkgState {
	return &pkgState{
		name: r.Name, arch: r.Arch, version: r.Version, multiArch: r.MultiArch,
		depends: r.Depends, preDepends: r.PreDepends, breaks: r.Breaks,
		conflicts: r.Conflicts, provides: r.Provides, orig: r,
	}
}

// stateFromCandidate describes a package as a candidate would install it.
func stateFromCandidate(c archive.Candidate) (*pkgState, error) {
	ps := &pkgState{name: c.Name, arch: c.Architecture, version: c.Version, multiArch: c.MultiArch}
	fields := []struct {
		name, value string
		dst         *[]deb.Alternatives
	}{
		{"Depends", c.Depends, &ps.depends}, {"Pre-Depends", c.PreDepends, &ps.preDepends},
		{"Breaks", c.Breaks, &ps.breaks}, {"Conflicts", c.Conflicts, &ps.conflicts},
		{"Provides", c.Provides, &ps.provides},
	}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		rels, err := deb.ParseRelations(f.value)
		if err != nil {
			return nil, fmt.Errorf("package %s %s: %s: %w", c.Name, c.Version, f.name, err)
		}
		*f.dst = rels
	}
	c2 := c
	ps.cand = &c2
	return ps, nil
}

// system is a set of packages by name.
type system map[string]*pkgState

// providesRel reports whether ps provides r.Name at a version meeting r's
// constraint. An unversioned Provides meets only unversioned relations.
func (ps *pkgState) providesRel(r deb.Relation) bool {
	for _, g := range ps.provides {
		for _, p := range g {
			if p.Name != r.Name {
				continue
			}
			if r.Op == "" {
				return true
			}
			if p.Op == "=" && satisfiesOp(p.Version, r.Op, r.Version) {
				return true
			}
		}
	}
	return false
}

// satisfied reports whether some package of the system meets one of the
// alternatives.
func (s system) satisfied(g deb.Alternatives) bool {
	for _, r := range g {
		if ps, ok := s[r.Name]; ok && satisfiesOp(ps.version, r.Op, r.Version) {
			return true
		}
		for _, ps := range s {
			if ps.providesRel(r) {
				return true
			}
		}
	}
	return false
}

// offender returns a package other than self that a Breaks or Conflicts
// relation of self hits, or nil.
func (s system) offender(self *pkgState, r deb.Relation) *pkgState {
	if ps, ok := s[r.Name]; ok && ps != self && ps.name != self.name && satisfiesOp(ps.version, r.Op, r.Version) {
		return ps
	}
	for _, name := range sortedNames(s) {
		ps := s[name]
		if ps.name != self.name && ps.providesRel(r) {
			return ps
		}
	}
	return nil
}
