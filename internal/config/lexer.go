package config

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// pos is a 1-based line and byte column.
type pos struct{ line, col int }

func (p pos) before(q pos) bool {
	return p.line < q.line || p.line == q.line && p.col < q.col
}

func (p pos) String() string { return fmt.Sprintf("%d:%d", p.line, p.col) }

// syntaxError is input that is not JWCC. Parsing stops at the first one.
type syntaxError struct {
	pos pos
	msg string
}

func (e *syntaxError) Error() string { return e.pos.String() + ": " + e.msg }

// kind is the type of a JSON value.
type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindObject
	kindArray
)

// value is a scalar value, or the kind and position of a skipped object or
// array.
type value struct {
	kind kind
	pos  pos
	str  string // the text of a string
	b    bool   // the value of a boolean
}

// lexer reads JWCC values from data, tracking line and column. Objects and
// arrays are walked with callbacks, so nothing is built that the caller does
// not keep.
type lexer struct {
	data      []byte
	off       int
	line      int // current line, 1-based
	lineStart int // offset of the current line's first byte
	depth     int // objects and arrays open
}

func newLexer(data []byte) *lexer { return &lexer{data: data, line: 1} }

func (l *lexer) pos() pos { return pos{l.line, l.off - l.lineStart + 1} }

func (l *lexer) eof() bool { return l.off >= len(l.data) }

// peek returns the byte at the current offset, or 0 at the end of the input.
func (l *lexer) peek() byte {
	if l.eof() {
		return 0
	}
	return l.data[l.off]
}

func (l *lexer) errorf(p pos, format string, args ...any) error {
	return &syntaxError{pos: p, msg: fmt.Sprintf(format, args...)}
}

// found describes the character at the current offset for error messages.
func (l *lexer) found() string {
	if l.eof() {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(l.data[l.off:])
	return fmt.Sprintf("%q", r)
}

// skip skips whitespace and comments.
func (l *lexer) skip() error {
	for !l.eof() {
		switch l.data[l.off] {
		case ' ', '\t', '\r':
			l.off++
		case '\n':
			l.newline()
		case '/':
			if err := l.comment(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) newline() {
	l.off++
	l.line++
	l.lineStart = l.off
}

// comment skips the // or /* */ comment at the current offset.
func (l *lexer) comment() error {
	start := l.pos()
	var next byte
	if l.off+1 < len(l.data) {
		next = l.data[l.off+1]
	}
	switch next {
	case '/':
		if i := bytes.IndexByte(l.data[l.off:], '\n'); i >= 0 {
			l.off += i
		} else {
			l.off = len(l.data)
		}
		return nil
	case '*':
		l.off += 2
		for !l.eof() {
			switch {
			case l.data[l.off] == '\n':
				l.newline()
			case l.data[l.off] == '*' && l.off+1 < len(l.data) && l.data[l.off+1] == '/':
				l.off += 2
				return nil
			default:
				l.off++
			}
		}
		return l.errorf(start, "unterminated /* comment; close it with */")
	}
	return l.errorf(start, "unexpected '/'; comments start with // or /*")
}

// value reads the value at the current offset, where skip has left it.
// Objects and arrays are checked and skipped.
func (l *lexer) value() (value, error) {
	p := l.pos()
	c := l.peek()
	switch {
	case l.eof():
		return value{}, l.errorf(p, "unexpected end of file; a value is missing")
	case c == '{':
		return value{kind: kindObject, pos: p}, l.object(func(string, pos) error { return l.skipValue() })
	case c == '[':
		return value{kind: kindArray, pos: p}, l.array(func(int) error { return l.skipValue() })
	case c == '"':
		s, err := l.str()
		return value{kind: kindString, pos: p, str: s}, err
	case c == '-' || isDigit(c):
		return value{kind: kindNumber, pos: p}, l.number()
	case isWordByte(c):
		return l.literal()
	}
	return value{}, l.errorf(p, "expected a value, found %s", l.found())
}

func (l *lexer) skipValue() error {
	_, err := l.value()
	return err
}

// enter opens an object or array, enforcing MaxDepth.
func (l *lexer) enter(p pos) error {
	if l.depth >= MaxDepth {
		return l.errorf(p, "objects and arrays are nested more than %d levels deep", MaxDepth)
	}
	l.depth++
	l.off++
	return nil
}

// object reads the object at the current offset. member is called for each
// member with the lexer at the member's value, which it must consume.
func (l *lexer) object(member func(key string, keyPos pos) error) error {
	open := l.pos()
	if err := l.enter(open); err != nil {
		return err
	}
	for {
		if err := l.skip(); err != nil {
			return err
		}
		switch l.peek() {
		case '}':
			l.off++
			l.depth--
			return nil
		case '"':
		default:
			if l.eof() {
				return l.errorf(l.pos(), "unexpected end of file; close the object opened at %s with }", open)
			}
			return l.errorf(l.pos(), "expected a field name in double quotes, found %s", l.found())
		}
		keyPos := l.pos()
		key, err := l.str()
		if err != nil {
			return err
		}
		if err := l.skip(); err != nil {
			return err
		}
		if l.peek() != ':' {
			return l.errorf(l.pos(), "expected ':' after field name %s, found %s", quote(key), l.found())
		}
		l.off++
		if err := l.skip(); err != nil {
			return err
		}
		if err := member(key, keyPos); err != nil {
			return err
		}
		if err := l.skip(); err != nil {
			return err
		}
		switch l.peek() {
		case ',':
			l.off++
		case '}':
		default:
			if l.eof() {
				return l.errorf(l.pos(), "unexpected end of file; close the object opened at %s with }", open)
			}
			return l.errorf(l.pos(), "expected ',' or '}' after the value of %s, found %s; is a comma missing?", quote(key), l.found())
		}
	}
}

// array reads the array at the current offset. elem is called for each
// element with the lexer at the element, which it must consume.
func (l *lexer) array(elem func(i int) error) error {
	open := l.pos()
	if err := l.enter(open); err != nil {
		return err
	}
	for i := 0; ; i++ {
		if err := l.skip(); err != nil {
			return err
		}
		if l.eof() {
			return l.errorf(l.pos(), "unexpected end of file; close the array opened at %s with ]", open)
		}
		if l.peek() == ']' {
			l.off++
			l.depth--
			return nil
		}
		if err := elem(i); err != nil {
			return err
		}
		if err := l.skip(); err != nil {
			return err
		}
		switch l.peek() {
		case ',':
			l.off++
		case ']':
		default:
			if l.eof() {
				return l.errorf(l.pos(), "unexpected end of file; close the array opened at %s with ]", open)
			}
			return l.errorf(l.pos(), "expected ',' or ']' after an array element, found %s; is a comma missing?", l.found())
		}
	}
}
