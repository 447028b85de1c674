package rpm

import (
	"fmt"
	"strings"
)

// Sense flags of a dependency (rpm's RPMSENSE_*), as the headers and
// primary.xml ("LT", "GE", …) give them.
const (
	SenseLess    uint32 = 1 << 1
	SenseGreater uint32 = 1 << 2
	SenseEqual   uint32 = 1 << 3
	senseMask           = SenseLess | SenseGreater | SenseEqual
	// SenseRPMLib marks rpmlib(…) dependencies, met by rpm itself.
	SenseRPMLib uint32 = 1 << 24
)

// Dep is one Requires, Provides, Conflicts or Obsoletes entry: a name
// (or a rich dependency "(a or b)"), comparison flags and a version.
type Dep struct {
	Name  string
	Flags uint32
	EVR   string
}

// String prints the dependency as rpm -q --requires does.
func (d Dep) String() string {
	if d.Flags&senseMask == 0 || d.EVR == "" {
		return d.Name
	}
	return d.Name + " " + senseString(d.Flags) + " " + d.EVR
}

// senseString spells comparison flags.
func senseString(f uint32) string {
	var s string
	if f&SenseLess != 0 {
		s += "<"
	}
	if f&SenseGreater != 0 {
		s += ">"
	}
	if f&SenseEqual != 0 {
		s += "="
	}
	return s
}

// FlagsOf returns the sense flags of a primary.xml comparison ("EQ",
// "LT", "LE", "GT", "GE"); "" and unknown values are unversioned.
func FlagsOf(s string) uint32 {
	switch s {
	case "EQ":
		return SenseEqual
	case "LT":
		return SenseLess
	case "LE":
		return SenseLess | SenseEqual
	case "GT":
		return SenseGreater
	case "GE":
		return SenseGreater | SenseEqual
	}
	return 0
}

// versioned reports whether d compares versions.
func (d Dep) versioned() bool { return d.Flags&senseMask != 0 && d.EVR != "" }

// Rich reports whether d is a rich (boolean) dependency.
func (d Dep) Rich() bool { return strings.HasPrefix(d.Name, "(") }

// Overlaps reports whether the provide p satisfies the requirement d
// (same name assumed): either unversioned, or their version ranges
// overlap, as rpm's rangesOverlap decides. A release missing on either
// side is not compared.
func (d Dep) Overlaps(p Dep) bool {
	if !d.versioned() || !p.versioned() {
		return true
	}
	c := ParseEVR(p.EVR).compareForDep(ParseEVR(d.EVR))
	switch {
	case c < 0:
		return p.Flags&SenseGreater != 0 || d.Flags&SenseLess != 0
	case c > 0:
		return p.Flags&SenseLess != 0 || d.Flags&SenseGreater != 0
	default:
		return (p.Flags&d.Flags)&senseMask != 0
	}
}

// MatchesEVR reports whether a package of version evr satisfies d by its
// name (obsoletes and conflicts against a package's own version).
func (d Dep) MatchesEVR(evr EVR) bool {
	return d.Overlaps(Dep{Name: d.Name, Flags: SenseEqual, EVR: evr.String()})
}

// richOp is a rich dependency operator.
type richOp string

// Rich dependency operators.
const (
	opLeaf    richOp = ""
	opAnd     richOp = "and"
	opOr      richOp = "or"
	opIf      richOp = "if"
	opUnless  richOp = "unless"
	opWith    richOp = "with"
	opWithout richOp = "without"
)

// richExpr is a parsed rich dependency: a leaf dependency or an operator
// over its arguments. For "if" and "unless", args are [then, cond] or
// [then, cond, else].
type richExpr struct {
	op   richOp
	leaf Dep
	args []*richExpr
}

// parseRich parses a rich dependency "(a or (b >= 1 if c))".
func parseRich(s string) (*richExpr, error) {
	p := &richParser{toks: tokenizeRich(s)}
	e, err := p.expr()
	if err != nil {
		return nil, fmt.Errorf("rich dependency %q: %w", s, err)
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("rich dependency %q: unexpected %q", s, p.toks[p.pos])
	}
	return e, nil
}

// tokenizeRich splits on spaces and parentheses; a name may itself hold
// balanced parentheses ("libc.so.6()(64bit)", "perl(Foo::Bar)").
func tokenizeRich(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case ' ', '\t':
			i++
		case '(', ')':
			out = append(out, string(c))
			i++
		default:
			j, depth := i, 0
		word:
			for ; j < len(s); j++ {
				switch s[j] {
				case ' ', '\t':
					if depth == 0 {
						break word
					}
				case '(':
					depth++
				case ')':
					if depth == 0 {
						break word
					}
					depth--
				}
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

// richParser is a recursive-descent parser over tokens.
type richParser struct {
	toks []string
	pos  int
}

func (p *richParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

// expr reads "(" term op term … ")".
func (p *richParser) expr() (*richExpr, error) {
	if p.peek() != "(" {
		return nil, fmt.Errorf("expected '(' at %q", p.peek())
	}
	p.pos++
	first, err := p.term()
	if err != nil {
		return nil, err
	}
	if p.peek() == ")" {
		p.pos++
		return first, nil
	}
	op := richOp(p.peek())
	switch op {
	case opAnd, opOr, opWith:
		e := &richExpr{op: op, args: []*richExpr{first}}
		for richOp(p.peek()) == op {
			p.pos++
			t, err := p.term()
			if err != nil {
				return nil, err
			}
			e.args = append(e.args, t)
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("expected ')' at %q (mixing operators needs parentheses)", p.peek())
		}
		p.pos++
		return e, nil
	case opIf, opUnless, opWithout:
		p.pos++
		cond, err := p.term()
		if err != nil {
			return nil, err
		}
		e := &richExpr{op: op, args: []*richExpr{first, cond}}
		if op != opWithout && p.peek() == "else" {
			p.pos++
			alt, err := p.term()
			if err != nil {
				return nil, err
			}
			e.args = append(e.args, alt)
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("expected ')' at %q", p.peek())
		}
		p.pos++
		return e, nil
	}
	return nil, fmt.Errorf("unknown operator %q", op)
}

// term reads a nested expression or "name [op version]".
func (p *richParser) term() (*richExpr, error) {
	t := p.peek()
	switch t {
	case "(":
		return p.expr()
	case "", ")":
		return nil, fmt.Errorf("missing operand")
	}
	p.pos++
	d := Dep{Name: t}
	if f, ok := map[string]uint32{"<": SenseLess, ">": SenseGreater, "=": SenseEqual, "==": SenseEqual,
		"<=": SenseLess | SenseEqual, ">=": SenseGreater | SenseEqual}[p.peek()]; ok {
		p.pos++
		v := p.peek()
		if v == "" || v == "(" || v == ")" {
			return nil, fmt.Errorf("missing version after %s %s", t, senseString(f))
		}
		p.pos++
		d.Flags, d.EVR = f, v
	}
	return &richExpr{op: opLeaf, leaf: d}, nil
}

// eval reports whether the expression holds, given whether a leaf
// dependency is met.
func (e *richExpr) eval(met func(Dep) bool) bool {
	switch e.op {
	case opLeaf:
		return met(e.leaf)
	case opAnd, opWith:
		for _, a := range e.args {
			if !a.eval(met) {
				return false
			}
		}
		return true
	case opOr:
		for _, a := range e.args {
			if a.eval(met) {
				return true
			}
		}
		return false
	case opIf:
		if e.args[1].eval(met) {
			return e.args[0].eval(met)
		}
		return len(e.args) < 3 || e.args[2].eval(met)
	case opUnless:
		if !e.args[1].eval(met) {
			return e.args[0].eval(met)
		}
		return len(e.args) < 3 || e.args[2].eval(met)
	case opWithout:
		return e.args[0].eval(met) && !e.args[1].eval(met)
	}
	return false
}

// needs returns the leaf dependencies that, all installed, would make an
// unmet expression hold: the first alternative of an "or" that can be
// met (by canMeet), both sides of an "and", the consequence of an "if"
// whose condition holds. It returns false when no choice works.
func (e *richExpr) needs(met, canMeet func(Dep) bool) ([]Dep, bool) {
	if e.eval(met) {
		return nil, true
	}
	switch e.op {
	case opLeaf:
		if canMeet(e.leaf) {
			return []Dep{e.leaf}, true
		}
		return nil, false
	case opAnd, opWith:
		var out []Dep
		for _, a := range e.args {
			d, ok := a.needs(met, canMeet)
			if !ok {
				return nil, false
			}
			out = append(out, d...)
		}
		return out, true
	case opOr:
		for _, a := range e.args {
			if d, ok := a.needs(met, canMeet); ok {
				return d, true
			}
		}
		return nil, false
	case opIf:
		if e.args[1].eval(met) {
			return e.args[0].needs(met, canMeet)
		}
		if len(e.args) == 3 {
			return e.args[2].needs(met, canMeet)
		}
	case opUnless:
		if !e.args[1].eval(met) {
			return e.args[0].needs(met, canMeet)
		}
		if len(e.args) == 3 {
			return e.args[2].needs(met, canMeet)
		}
	case opWithout:
		return e.args[0].needs(met, canMeet)
	}
	return nil, false
}
