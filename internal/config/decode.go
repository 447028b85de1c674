package config

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"unicode/utf8"
)

// maxProblems bounds the problems reported for one file.
const maxProblems = 100

// decoder turns the lexer's values into a Config, collecting problems.
type decoder struct {
	lex      *lexer
	file     string
	problems []Problem // sorted by position, at most maxProblems
	dropped  int       // problems beyond maxProblems
}

// report records a problem, keeping the maxProblems earliest ones.
func (d *decoder) report(p pos, path, format string, args ...any) {
	i := sort.Search(len(d.problems), func(i int) bool {
		return p.before(pos{d.problems[i].Line, d.problems[i].Col})
	})
	if len(d.problems) >= maxProblems {
		d.dropped++
		if i == len(d.problems) {
			return
		}
		d.problems = d.problems[:len(d.problems)-1]
	}
	d.problems = slices.Insert(d.problems, i, Problem{
		File: d.file, Line: p.line, Col: p.col, Path: path, Msg: fmt.Sprintf(format, args...),
	})
}

// decode parses the whole input and returns the config or every problem.
func (d *decoder) decode() (*Config, error) {
	if off := invalidUTF8(d.lex.data); off >= 0 {
		d.report(offsetPos(d.lex.data, off), "", "invalid UTF-8 byte 0x%02x; save the file as UTF-8", d.lex.data[off])
		return nil, &Errors{Problems: d.problems}
	}
	cfg, err := d.document()
	var se *syntaxError
	switch {
	case errors.As(err, &se):
		return nil, &Errors{Problems: []Problem{{File: d.file, Line: se.pos.line, Col: se.pos.col, Msg: se.msg}}}
	case err != nil:
		return nil, fmt.Errorf("parse workflow config %s: %w", d.file, err)
	case len(d.problems) > 0:
		if d.dropped > 0 {
			d.problems = append(d.problems, Problem{File: d.file, Msg: fmt.Sprintf(
				"%d more problems not shown; fix the ones above and check again", d.dropped)})
		}
		return nil, &Errors{Problems: d.problems}
	}
	return cfg, nil
}

// document reads the top-level value and checks nothing follows it.
func (d *decoder) document() (*Config, error) {
	l := d.lex
	if err := l.skip(); err != nil {
		return nil, err
	}
	if l.eof() {
		what := "the file is empty"
		if len(l.data) > 0 {
			what = "the file contains only whitespace and comments"
		}
		d.report(pos{1, 1}, "", `%s; write a config such as {"version": "v1", "repositories": [%s]}`, what, exampleRepository)
		return nil, nil
	}
	var cfg *Config
	if l.peek() == '{' {
		c, err := d.config()
		if err != nil {
			return nil, err
		}
		cfg = c
	} else {
		v, err := l.value()
		if err != nil {
			return nil, err
		}
		d.report(v.pos, "", `the top level must be a JSON object such as {"version": "v1", "repositories": [...]}, not %s`, describe(v.kind))
	}
	if err := l.skip(); err != nil {
		return nil, err
	}
	if !l.eof() {
		return nil, l.errorf(l.pos(), "unexpected %s after the end of the top-level value; remove it", l.found())
	}
	return cfg, nil
}

// describe names a kind for messages.
func describe(k kind) string {
	switch k {
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	case kindObject:
		return "an object"
	}
	return "null"
}

// invalidUTF8 returns the offset of the first byte that is not valid UTF-8,
// or -1.
func invalidUTF8(data []byte) int {
	if utf8.Valid(data) {
		return -1
	}
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size == 1 {
			return off
		}
		off += size
	}
	return -1
}

// offsetPos converts a byte offset to a position.
func offsetPos(data []byte, off int) pos {
	before := data[:off]
	return pos{bytes.Count(before, []byte{'\n'}) + 1, off - (bytes.LastIndexByte(before, '\n') + 1) + 1}
}
