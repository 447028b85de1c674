package rpm

import (
	"path"
	"slices"
	"strings"
)

// Candidate is a package a repository offers.
type Candidate struct {
	*Package
	// Repo is the id of the repository that offers it.
	Repo string
	// Module is "name:stream" of a modular package (EL8 modules.yaml),
	// "" when not modular or unknown.
	Module string
	// Hotfix says the repository has module_hotfixes=1: its packages
	// are never hidden by module filtering.
	Hotfix bool
	// Ref is what the downloader needs to fetch the package.
	Ref any
}

// Index holds the candidates the planner chooses from, by name, by
// provide and by file, each list sorted from the highest version down.
type Index struct {
	byName    map[string][]*Candidate
	byProvide map[string][]*Candidate
	byFile    map[string][]*Candidate
}

// IndexOptions filter the candidates an Index holds.
type IndexOptions struct {
	// Exclude are dnf's global exclude= globs, matched against name,
	// name.arch and the NEVRA (per-repository excludes are applied by
	// whoever reads the repository).
	Exclude []string
	// Streams are the enabled module streams, module name to stream
	// (etc/dnf/modules.d and the installed packages' modularity labels).
	// A modular candidate of another stream is hidden, and so is a
	// non-modular candidate named as a package of an enabled stream.
	Streams map[string]string
}

// NewIndex indexes candidates, leaving out excluded and filtered ones.
func NewIndex(cands []*Candidate, opts IndexOptions) *Index {
	ix := &Index{byName: map[string][]*Candidate{}, byProvide: map[string][]*Candidate{}, byFile: map[string][]*Candidate{}}
	modularNames := map[string]bool{}
	for _, c := range cands {
		if c.Module != "" && streamEnabled(opts.Streams, c.Module) {
			modularNames[c.Name] = true
		}
	}
	for _, c := range cands {
		if Excluded(opts.Exclude, c.Package) {
			continue
		}
		if !c.Hotfix && c.Module != "" && !streamEnabled(opts.Streams, c.Module) {
			continue
		}
		if !c.Hotfix && c.Module == "" && modularNames[c.Name] {
			continue
		}
		ix.byName[c.Name] = append(ix.byName[c.Name], c)
		seen := map[string]bool{}
		for _, p := range append(c.selfProvides(), c.Provides...) {
			if !seen[p.Name] {
				seen[p.Name] = true
				ix.byProvide[p.Name] = append(ix.byProvide[p.Name], c)
			}
		}
		for _, f := range c.Files {
			ix.byFile[f.Path] = append(ix.byFile[f.Path], c)
		}
	}
	for _, m := range []map[string][]*Candidate{ix.byName, ix.byProvide, ix.byFile} {
		for _, l := range m {
			slices.SortStableFunc(l, func(a, b *Candidate) int {
				if c := b.EVR.Compare(a.EVR); c != 0 {
					return c
				}
				return strings.Compare(a.NEVRA()+a.Repo, b.NEVRA()+b.Repo)
			})
		}
	}
	return ix
}

// streamEnabled reports whether "name:stream" is enabled.
func streamEnabled(streams map[string]string, module string) bool {
	name, stream, _ := strings.Cut(module, ":")
	return streams[name] == stream
}

// Excluded reports whether any glob matches the package's name,
// name.arch or NEVRA, as dnf's exclude= does.
func Excluded(globs []string, p *Package) bool {
	for _, g := range globs {
		for _, s := range []string{p.Name, p.Name + "." + p.Arch, p.NEVRA(), p.Name + "-" + p.EVR.String()} {
			if ok, _ := path.Match(g, s); ok {
				return true
			}
		}
	}
	return false
}

// Named returns the candidates called name, highest first.
func (ix *Index) Named(name string) []*Candidate { return ix.byName[name] }

// Providers returns the candidates that provide d's name (or ship the
// file d names), highest first; d's version is not checked.
func (ix *Index) Providers(d Dep) []*Candidate {
	if strings.HasPrefix(d.Name, "/") {
		return slices.Concat(ix.byFile[d.Name], ix.byProvide[d.Name])
	}
	return ix.byProvide[d.Name]
}
