package rpmdb

import (
	"slices"
	"strings"
)

// richNames returns the names rpm indexes for a rich dependency besides
// the whole string (rpm's updateRichDep): every simple dependency's name
// except rpmlib() ones, those in the condition of an if or unless prefixed
// with "!" (and both ways for if…else), sorted and without duplicates. A
// dependency rpm cannot parse gives none.
func richNames(dep string) []string {
	p := &richParser{s: dep}
	if !p.group() {
		return nil
	}
	slices.Sort(p.names)
	var out []string
	for i, n := range p.names {
		if i > 0 && p.names[i-1] == n {
			continue
		}
		out = append(out, strings.TrimPrefix(n, " "))
	}
	return out
}

// richParser walks a rich dependency as rpm's rpmrichParse does, collecting
// names the way rpm's updateRichDepCB does: each prefixed with " " or, when
// negated, "!".
type richParser struct {
	s     string
	pos   int
	names []string
	neg   bool
	marks []int // per open group: where its current condition starts in names
}

func isRichSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *richParser) skipWhite() {
	for p.pos < len(p.s) && (isRichSpace(p.s[p.pos]) || p.s[p.pos] == ',') {
		p.pos++
	}
}

// skipNonWhite advances over a token: up to white space, a comma or an
// unbalanced ")".
func (p *richParser) skipNonWhite() {
	depth := 0
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if isRichSpace(c) || c == ',' {
			return
		}
		if c == ')' {
			if depth <= 0 {
				return
			}
			depth--
		}
		if c == '(' {
			depth++
		}
		p.pos++
	}
}

var richOps = map[string]bool{"and": true, "or": true, "if": true, "unless": true, "else": true, "with": true, "without": true}

// group parses "( … )" at pos.
func (p *richParser) group() bool {
	p.marks = append(p.marks, len(p.names))
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return false
	}
	p.pos++
	op, chain := "", ""
	for {
		p.skipWhite()
		if p.pos >= len(p.s) || p.s[p.pos] == ')' {
			return false // empty group or missing argument
		}
		if p.s[p.pos] == '(' {
			if !p.group() {
				return false
			}
		} else if !p.simple() {
			return false
		}
		p.skipWhite()
		if p.pos >= len(p.s) {
			return false
		}
		if p.s[p.pos] == ')' {
			break
		}
		start := p.pos
		for p.pos < len(p.s) && !isRichSpace(p.s[p.pos]) && p.s[p.pos] != ')' {
			p.pos++
		}
		op = p.s[start:p.pos]
		if !richOps[op] {
			return false
		}
		if op == "else" && (chain == "if" || chain == "unless") {
			chain = ""
		}
		if chain != "" && (op != chain || (op != "and" && op != "or" && op != "with")) {
			return false
		}
		level := len(p.marks) - 1
		switch op {
		case "if", "unless":
			p.marks[level] = len(p.names)
			p.neg = !p.neg
		case "else":
			n := len(p.names)
			for _, name := range p.names[p.marks[level]:n] {
				p.names = append(p.names, invertName(name))
			}
			p.neg = !p.neg
		}
		chain = op
	}
	p.pos++ // ")"
	p.marks = p.marks[:len(p.marks)-1]
	if op == "if" || op == "unless" {
		p.neg = !p.neg
	}
	return true
}

func invertName(n string) string {
	if strings.HasPrefix(n, "!") {
		return " " + n[1:]
	}
	return "!" + n[1:]
}

// simple parses "name [op version]".
func (p *richParser) simple() bool {
	start := p.pos
	p.skipNonWhite()
	name := p.s[start:p.pos]
	if name == "" {
		return false
	}
	p.skipWhite()
	if p.pos < len(p.s) {
		save := p.pos
		p.skipNonWhite()
		if isSenseOp(p.s[save:p.pos]) {
			p.skipWhite()
			vs := p.pos
			p.skipNonWhite()
			if p.pos == vs {
				return false // version required
			}
		} else {
			p.pos = save
		}
	}
	if !(len(name) > 7 && strings.HasPrefix(name, "rpmlib(")) {
		prefix := " "
		if p.neg {
			prefix = "!"
		}
		p.names = append(p.names, prefix+name)
	}
	return true
}

// isSenseOp reports whether s is a comparison rpm's rpmParseDSFlags knows.
func isSenseOp(s string) bool {
	switch s {
	case "<", "<=", "=", "==", ">=", ">", "=<", "=>":
		return true
	}
	return false
}
