package rpm

import (
	"fmt"

	"github.com/patchloop/patchloop/internal/rpm"
)

// Dep is one Requires, Provides, Conflicts or Obsoletes entry, as
// package rpm reads it from headers and primary.xml.
type Dep = rpm.Dep

// versioned reports whether d compares versions.
func versioned(d Dep) bool { return d.Flags&rpm.SenseCompare != 0 && d.Version != "" }

// overlaps reports whether the provide p satisfies the requirement d
// (same name assumed): either unversioned, or their version ranges
// overlap, as rpm's rangesOverlap decides. A release missing on either
// side is not compared.
func overlaps(d, p Dep) bool {
	if !versioned(d) || !versioned(p) {
		return true
	}
	c := ParseEVR(p.Version).compareForDep(ParseEVR(d.Version))
	switch {
	case c < 0:
		return p.Flags&rpm.SenseGreater != 0 || d.Flags&rpm.SenseLess != 0
	case c > 0:
		return p.Flags&rpm.SenseLess != 0 || d.Flags&rpm.SenseGreater != 0
	default:
		return (p.Flags&d.Flags)&rpm.SenseCompare != 0
	}
}

// matchesEVR reports whether a package of version evr satisfies d by its
// name (obsoletes and conflicts against a package's own version).
func matchesEVR(d Dep, evr EVR) bool {
	return overlaps(d, Dep{Name: d.Name, Flags: rpm.SenseEqual, Version: evr.String()})
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
	if f, ok := map[string]rpm.Sense{"<": rpm.SenseLess, ">": rpm.SenseGreater, "=": rpm.SenseEqual, "==": rpm.SenseEqual,
		"<=": rpm.SenseLess | rpm.SenseEqual, ">=": rpm.SenseGreater | rpm.SenseEqual}[p.peek()]; ok {
		op := p.peek()
		p.pos++
		v := p.peek()
		if v == "" || v == "(" || v == ")" {
			return nil, fmt.Errorf("missing version after %s %s", t, op)
		}
		p.pos++
		d.Flags, d.Version = f, v
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
