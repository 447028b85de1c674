package apk

import (
	"fmt"
	"strings"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// Dep is one dependency, provide or conflict of a package: "name",
// "so:libc.musl-x86_64.so.1", "cmd:sh", "pc:zlib>=1.2", "!foo", "bar~1.2".
type Dep struct {
	// Name is the package or provided name.
	Name string
	// Op is one of "", "=", "<", ">", "<=", ">=" and "~" (the version's
	// prefix up to a component boundary); "" matches any version.
	Op string
	// Version is the version compared with.
	Version string
	// Conflict marks "!name": the package must not be installed.
	Conflict bool
	// Tag is the repository pin of "name@tag" (world only).
	Tag string
}

// String prints the dependency as apk writes it.
func (d Dep) String() string {
	s := d.Name
	if d.Conflict {
		s = "!" + s
	}
	if d.Tag != "" {
		s += "@" + d.Tag
	}
	return s + d.Op + d.Version
}

// ParseDeps reads a space-separated dependency list.
func ParseDeps(s string) ([]Dep, error) {
	var out []Dep
	for _, w := range strings.Fields(s) {
		d, err := ParseDep(w)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseDep reads one dependency.
func ParseDep(s string) (Dep, error) {
	var d Dep
	if rest, ok := strings.CutPrefix(s, "!"); ok {
		d.Conflict, s = true, rest
	}
	i := strings.IndexAny(s, "<>=~")
	name := s
	if i >= 0 {
		name = s[:i]
		op := s[i:]
		j := 0
		for j < len(op) && strings.ContainsRune("<>=~", rune(op[j])) {
			j++
		}
		d.Op, d.Version = op[:j], op[j:]
		switch d.Op {
		case "=", "<", ">", "<=", ">=", "~":
		case "=~", "~=":
			d.Op = "~"
		case "><":
			// A checksum pin ("name><Q1…"): any version of the name.
			d.Op, d.Version = "", ""
		default:
			return Dep{}, fmt.Errorf("dependency %q: unknown operator %q", s, d.Op)
		}
		if d.Op != "" && d.Version == "" {
			return Dep{}, fmt.Errorf("dependency %q: operator without a version", s)
		}
	}
	if n, tag, ok := strings.Cut(name, "@"); ok {
		name, d.Tag = n, tag
	}
	if name == "" {
		return Dep{}, fmt.Errorf("dependency %q: no name", s)
	}
	d.Name = name
	return d, nil
}

// Matches reports whether version satisfies the dependency's version
// constraint (a conflict's constraint says which versions conflict).
// An unparsable version never satisfies a constraint.
func (d Dep) Matches(version string) bool {
	if d.Op == "" {
		return true
	}
	if d.Op == "~" {
		return version == d.Version || strings.HasPrefix(version, d.Version) &&
			strings.ContainsRune(".-_", rune(version[len(d.Version)]))
	}
	c, err := ospkg.Apk.Compare(version, d.Version)
	if err != nil {
		return false
	}
	switch d.Op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	case ">=":
		return c >= 0
	}
	return false
}

// ProvidedBy reports whether p, installed or offered, satisfies the
// dependency by name or through one of its provides. A provide without a
// version satisfies only a dependency without a constraint, as apk has it.
func (d Dep) ProvidedBy(p *Package) bool {
	if p.Name == d.Name {
		return d.Matches(p.Version)
	}
	for _, pr := range p.Provides {
		if pr.Name != d.Name {
			continue
		}
		if pr.Version == "" {
			if d.Op == "" {
				return true
			}
			continue
		}
		if d.Matches(pr.Version) {
			return true
		}
	}
	return false
}
