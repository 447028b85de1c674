package patch

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Installed is one installed package as the planning helpers see it.
type Installed struct {
	// Key identifies the package's slot in the patcher's plan: its name,
	// or name and architecture where one name may be installed several
	// times (rpm's multilib packages).
	Key string
	// Name is the binary package name, as findings name it.
	Name string
	// Source is the package the distribution builds it from and keys its
	// advisories by: Debian's source package, apk's origin, the source RPM.
	Source string
}

// Target is an installed package a plan should upgrade to at least Fixed.
type Target struct {
	// Key, Name and Source are the installed package's (see Installed).
	Key, Name, Source string
	// Fixed is the highest fixed version among the findings of Source.
	Fixed string
	// Vulns are the vulnerability IDs of those findings, sorted, once each.
	Vulns []string
	// Named says whether a finding names this package itself rather than
	// another package of the same source.
	Named bool
}

// Targets turns findings into the installed packages to upgrade: every
// installed package built from the source of a vulnerable package, since
// advisories are keyed by source package. A source's fixed version is the
// highest among its findings by compare (the package manager's ordering).
//
// installed lists the packages in the order the targets are returned;
// a finding names its package by Name, and the first package of that name
// gives its source. A finding for a package not installed is logged at
// debug level (manager names the patcher) and left out.
func Targets(log *slog.Logger, manager string, findings []Finding, installed []Installed, compare func(a, b string) int) []Target {
	sourceOf := map[string]string{}
	for _, p := range installed {
		if _, ok := sourceOf[p.Name]; !ok {
			sourceOf[p.Name] = p.Source
		}
	}
	type sourceInfo struct {
		fixed string
		vulns []string
		named map[string]bool
	}
	bySource := map[string]*sourceInfo{}
	for _, f := range findings {
		src, ok := sourceOf[f.PkgName]
		if !ok {
			log.Debug(manager+" patcher: finding for a package not installed here", "package", f.PkgName, "vulnerability", f.VulnerabilityID)
			continue
		}
		si := bySource[src]
		if si == nil {
			si = &sourceInfo{named: map[string]bool{}}
			bySource[src] = si
		}
		if si.fixed == "" || compare(f.FixedVersion, si.fixed) > 0 {
			si.fixed = f.FixedVersion
		}
		if !slices.Contains(si.vulns, f.VulnerabilityID) {
			si.vulns = append(si.vulns, f.VulnerabilityID)
		}
		si.named[f.PkgName] = true
	}
	var out []Target
	for _, p := range installed {
		si, ok := bySource[p.Source]
		if !ok {
			continue
		}
		vulns := slices.Clone(si.vulns)
		slices.Sort(vulns)
		out = append(out, Target{Key: p.Key, Name: p.Name, Source: p.Source, Fixed: si.fixed, Vulns: vulns, Named: si.named[p.Name]})
	}
	return out
}

// Reason says why the plan upgrades t: "fixes CVE-…" when a finding names
// it, else that it shares its source with vulnerable packages; sourceKind
// names what the source is ("source package", "origin").
func (t Target) Reason(sourceKind string) string {
	if t.Named {
		return "fixes " + strings.Join(t.Vulns, ", ")
	}
	return fmt.Sprintf("same %s (%s) as vulnerable packages: %s", sourceKind, t.Source, strings.Join(t.Vulns, ", "))
}

// Unfixed returns the findings a plan leaves in place when it cannot
// upgrade t, one per vulnerability, with reason. A plan records them only
// for a Named target; the others are its source's siblings.
func (t Target) Unfixed(reason string) []Unfixed {
	out := make([]Unfixed, 0, len(t.Vulns))
	for _, v := range t.Vulns {
		out = append(out, Unfixed{VulnerabilityID: v, PkgName: t.Name, FixedVersion: t.Fixed, Reason: reason})
	}
	return out
}

// FixedIDs returns, sorted, the vulnerability IDs a plan fixes: those
// every finding of which it fixes. fixed reports, for one finding, whether
// the plan fixes it and whether the finding counts at all (false for a
// package not installed, which is left out).
func FixedIDs(findings []Finding, fixed func(Finding) (ok, counts bool)) []string {
	byID := map[string]bool{}
	for _, f := range findings {
		ok, counts := fixed(f)
		if !counts {
			continue
		}
		if prev, seen := byID[f.VulnerabilityID]; seen {
			ok = ok && prev
		}
		byID[f.VulnerabilityID] = ok
	}
	var out []string
	for id, ok := range byID {
		if ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
