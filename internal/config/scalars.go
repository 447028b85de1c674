package config

import (
	"bytes"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// literal reads true, false or null, and explains other bare words.
func (l *lexer) literal() (value, error) {
	p := l.pos()
	end := l.off
	for end < len(l.data) && isWordByte(l.data[end]) {
		end++
	}
	word := l.data[l.off:end]
	switch string(word) {
	case "true", "false":
		l.off = end
		return value{kind: kindBool, pos: p, b: word[0] == 't'}, nil
	case "null":
		l.off = end
		return value{kind: kindNull, pos: p}, nil
	}
	switch lower := string(bytes.ToLower(word)); lower {
	case "true", "false", "null":
		return value{}, l.errorf(p, "invalid literal %s; write it in lowercase: %s", quote(string(word)), lower)
	}
	return value{}, l.errorf(p, "unexpected %s; put strings in double quotes", quote(string(word)))
}

// number checks the number at the current offset against the JSON grammar.
func (l *lexer) number() error {
	p := l.pos()
	i := l.off
	if l.data[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(l.data) && isDigit(l.data[i]) {
			i++
		}
		return i - start
	}
	switch n := digits(); {
	case n == 0:
		return l.errorf(p, "invalid number: a digit must follow '-'")
	case n > 1 && l.data[i-n] == '0':
		return l.errorf(p, "invalid number: leading zeros are not allowed")
	}
	if i < len(l.data) && l.data[i] == '.' {
		i++
		if digits() == 0 {
			return l.errorf(p, "invalid number: digits must follow the decimal point")
		}
	}
	if i < len(l.data) && (l.data[i] == 'e' || l.data[i] == 'E') {
		i++
		if i < len(l.data) && (l.data[i] == '+' || l.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return l.errorf(p, "invalid number: digits must follow the exponent")
		}
	}
	l.off = i
	return nil
}

// str reads the string at the current offset and returns its text.
func (l *lexer) str() (string, error) {
	start := l.pos()
	l.off++
	var buf []byte
	escaped := false
	run := l.off
	for !l.eof() {
		switch c := l.data[l.off]; {
		case c == '"':
			s := l.data[run:l.off]
			l.off++
			if escaped {
				return string(append(buf, s...)), nil
			}
			return string(s), nil
		case c == '\\':
			buf = append(buf, l.data[run:l.off]...)
			var err error
			if buf, err = l.escape(buf); err != nil {
				return "", err
			}
			escaped = true
			run = l.off
		case c == '\n':
			return "", l.errorf(l.pos(), "line break in a string; close the string with \" before the end of the line, or write \\n")
		case c < 0x20:
			return "", l.errorf(l.pos(), "control character %q in a string; write it as an escape such as \\t or \\u0001", rune(c))
		default:
			l.off++
		}
	}
	return "", l.errorf(start, "unterminated string; close it with \"")
}

// escape decodes the backslash escape at the current offset onto buf.
func (l *lexer) escape(buf []byte) ([]byte, error) {
	p := l.pos()
	if l.off+1 >= len(l.data) {
		return nil, l.errorf(p, "unterminated string; close it with \"")
	}
	c := l.data[l.off+1]
	l.off += 2
	switch c {
	case '"', '\\', '/':
		return append(buf, c), nil
	case 'b':
		return append(buf, '\b'), nil
	case 'f':
		return append(buf, '\f'), nil
	case 'n':
		return append(buf, '\n'), nil
	case 'r':
		return append(buf, '\r'), nil
	case 't':
		return append(buf, '\t'), nil
	case 'u':
		r, ok := l.hex4()
		if !ok {
			return nil, l.errorf(p, "invalid \\u escape; write \\u followed by 4 hexadecimal digits")
		}
		if utf16.IsSurrogate(r) {
			r = l.lowSurrogate(r)
		}
		return utf8.AppendRune(buf, r), nil
	}
	return nil, l.errorf(p, `invalid escape in a string; the escapes are \" \\ \/ \b \f \n \r \t and \uXXXX`)
}

// lowSurrogate combines the high surrogate hi with a following \uXXXX low
// surrogate. A lone surrogate becomes U+FFFD, as in encoding/json.
func (l *lexer) lowSurrogate(hi rune) rune {
	if l.off+1 < len(l.data) && l.data[l.off] == '\\' && l.data[l.off+1] == 'u' {
		save := l.off
		l.off += 2
		if lo, ok := l.hex4(); ok {
			if r := utf16.DecodeRune(hi, lo); r != unicode.ReplacementChar {
				return r
			}
		}
		l.off = save
	}
	return unicode.ReplacementChar
}

// hex4 reads 4 hexadecimal digits.
func (l *lexer) hex4() (rune, bool) {
	if l.off+4 > len(l.data) {
		return 0, false
	}
	var r rune
	for _, c := range l.data[l.off : l.off+4] {
		var v byte
		switch {
		case isDigit(c):
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	l.off += 4
	return r, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWordByte reports whether c can be part of a bare word such as true.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '-' || c == '.'
}
