package deb

import (
	"fmt"
	"strings"
)

// Relation is one package named in a relationship field, such as
// "libc6:any (>= 2.36) [amd64] <!nocheck>".
type Relation struct {
	// Name is the package name.
	Name string
	// ArchQualifier is what follows ':' after the name ("any", "native" or
	// an architecture), or "".
	ArchQualifier string
	// Op is one of "<<", "<=", "=", ">=", ">>", or "" when no version is
	// given. The obsolete "<" and ">" are read as "<=" and ">=".
	Op string
	// Version is the version the constraint compares with.
	Version string
	// Architectures is the architecture restriction list ("[amd64 !i386]")
	// of source package fields, in order.
	Architectures []string
	// Profiles holds the build profile restriction formulas
	// ("<!nocheck> <stage1 cross>"), one list of terms per formula.
	Profiles [][]string
}

// Alternatives is a group of relations separated by '|', any one of which
// satisfies the group.
type Alternatives []Relation

// String renders the relation in control-file syntax.
func (r Relation) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if r.ArchQualifier != "" {
		b.WriteByte(':')
		b.WriteString(r.ArchQualifier)
	}
	if r.Op != "" {
		fmt.Fprintf(&b, " (%s %s)", r.Op, r.Version)
	}
	if len(r.Architectures) > 0 {
		fmt.Fprintf(&b, " [%s]", strings.Join(r.Architectures, " "))
	}
	for _, f := range r.Profiles {
		fmt.Fprintf(&b, " <%s>", strings.Join(f, " "))
	}
	return b.String()
}

// String renders the alternatives joined by " | ".
func (a Alternatives) String() string {
	parts := make([]string, len(a))
	for i, r := range a {
		parts[i] = r.String()
	}
	return strings.Join(parts, " | ")
}

// FormatRelations renders a parsed relationship field, groups joined by ", ".
func FormatRelations(groups []Alternatives) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = g.String()
	}
	return strings.Join(parts, ", ")
}

// ParseRelations parses a relationship field value (Depends, Pre-Depends,
// Breaks, Conflicts, Provides, …): groups separated by ',', alternatives
// within a group by '|'. Whitespace, including line breaks of folded
// fields, is insignificant between tokens. Empty groups are skipped.
func ParseRelations(s string) ([]Alternatives, error) {
	var groups []Alternatives
	for group := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(group) == "" {
			continue
		}
		var alts Alternatives
		for alt := range strings.SplitSeq(group, "|") {
			r, err := parseRelation(alt)
			if err != nil {
				return nil, fmt.Errorf("relation %q: %w", truncate(strings.TrimSpace(alt)), err)
			}
			alts = append(alts, r)
		}
		groups = append(groups, alts)
	}
	return groups, nil
}

// relScanner walks one relation, skipping whitespace between tokens.
type relScanner struct {
	s   string
	pos int
}

func (sc *relScanner) skipSpace() {
	for sc.pos < len(sc.s) && isSpace(sc.s[sc.pos]) {
		sc.pos++
	}
}

func (sc *relScanner) peek() byte {
	sc.skipSpace()
	if sc.pos >= len(sc.s) {
		return 0
	}
	return sc.s[sc.pos]
}

// word returns the longest run of bytes accepted by ok.
func (sc *relScanner) word(ok func(byte) bool) string {
	sc.skipSpace()
	start := sc.pos
	for sc.pos < len(sc.s) && ok(sc.s[sc.pos]) {
		sc.pos++
	}
	return sc.s[start:sc.pos]
}

// until returns the text up to the closing byte, which it consumes.
func (sc *relScanner) until(closing byte) (string, error) {
	i := strings.IndexByte(sc.s[sc.pos:], closing)
	if i < 0 {
		return "", fmt.Errorf("missing %q", closing)
	}
	inner := sc.s[sc.pos : sc.pos+i]
	sc.pos += i + 1
	return inner, nil
}

func parseRelation(s string) (Relation, error) {
	sc := &relScanner{s: s}
	var r Relation
	r.Name = sc.word(isNameByte)
	if err := checkPackageName(r.Name); err != nil {
		return Relation{}, err
	}
	if sc.peek() == ':' {
		sc.pos++
		r.ArchQualifier = sc.word(isNameByte)
		if r.ArchQualifier == "" {
			return Relation{}, fmt.Errorf("empty architecture qualifier")
		}
	}
	if sc.peek() == '(' {
		sc.pos++
		inner, err := sc.until(')')
		if err != nil {
			return Relation{}, err
		}
		if r.Op, r.Version, err = parseConstraint(inner); err != nil {
			return Relation{}, err
		}
	}
	if sc.peek() == '[' {
		sc.pos++
		inner, err := sc.until(']')
		if err != nil {
			return Relation{}, err
		}
		if r.Architectures, err = restrictionTerms(inner); err != nil {
			return Relation{}, fmt.Errorf("architecture list: %w", err)
		}
	}
	for sc.peek() == '<' {
		sc.pos++
		inner, err := sc.until('>')
		if err != nil {
			return Relation{}, err
		}
		terms, err := restrictionTerms(inner)
		if err != nil {
			return Relation{}, fmt.Errorf("build profile: %w", err)
		}
		r.Profiles = append(r.Profiles, terms)
	}
	if c := sc.peek(); c != 0 {
		return Relation{}, fmt.Errorf("unexpected %q", c)
	}
	return r, nil
}

// parseConstraint reads "op version" from inside parentheses.
func parseConstraint(s string) (op, version string, err error) {
	s = strings.TrimLeft(s, " \t\r\n")
	n := 0
	for n < len(s) && (s[n] == '<' || s[n] == '=' || s[n] == '>') {
		n++
	}
	op = s[:n]
	switch op {
	case "<<", "<=", "=", ">=", ">>":
	case "<":
		op = "<="
	case ">":
		op = ">="
	default:
		return "", "", fmt.Errorf("invalid version operator %q", op)
	}
	version = strings.TrimSpace(s[n:])
	if version == "" {
		return "", "", fmt.Errorf("missing version after %q", op)
	}
	for i := 0; i < len(version); i++ {
		if !isVersionByte(version[i]) {
			return "", "", fmt.Errorf("invalid character %q in version %q", version[i], version)
		}
	}
	return op, version, nil
}

// restrictionTerms splits an architecture list or build profile formula
// into its terms, each optionally negated with '!'.
func restrictionTerms(s string) ([]string, error) {
	terms := strings.Fields(s)
	if len(terms) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	for _, t := range terms {
		name := strings.TrimPrefix(t, "!")
		if name == "" {
			return nil, fmt.Errorf("empty term %q", t)
		}
		for i := 0; i < len(name); i++ {
			if !isNameByte(name[i]) {
				return nil, fmt.Errorf("invalid character %q in %q", name[i], t)
			}
		}
	}
	return terms, nil
}

// checkPackageName enforces Debian policy's package name syntax, relaxed
// to accept upper case as dpkg does for old packages.
func checkPackageName(name string) error {
	if name == "" {
		return fmt.Errorf("missing package name")
	}
	if !isAlnum(name[0]) {
		return fmt.Errorf("package name %q must start with a letter or digit", name)
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isNameByte(c byte) bool { return isAlnum(c) || c == '+' || c == '-' || c == '.' || c == '_' }

func isVersionByte(c byte) bool { return isAlnum(c) || strings.IndexByte(".+-~:_", c) >= 0 }
