package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a config file.
type Problem struct {
	// File is the file name given to Parse or Load.
	File string
	// Line and Col locate the offending value, or the object a required
	// field is missing from; both are 1-based and Col counts bytes. Both are
	// 0 when the problem concerns the whole file (such as its size).
	Line, Col int
	// Path is the JSON path of the offending value, such as
	// repositories[1].enabled; it is empty for syntax errors and for
	// problems with the file as a whole.
	Path string
	// Msg says what is wrong and what to do about it.
	Msg string
}

// String formats the problem as file:line:col: path: message, leaving out
// the parts that are empty.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", p.Line, p.Col)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors lists the problems found in a config file, sorted by position. A
// syntax error stops parsing, so it is then the only problem. At most 100
// problems are listed; a last entry without a position counts the rest.
type Errors struct {
	Problems []Problem
}

// Error returns one line per problem.
func (e *Errors) Error() string {
	if len(e.Problems) == 0 {
		return "invalid workflow config"
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
