package ospkg

import (
	"bytes"
	"fmt"
	"strings"
)

// paragraph is one record of a deb822 control file (dpkg status).
type paragraph struct {
	line   int               // line number of its first field
	fields map[string]string // lower-cased field name to value (first line)
}

// parseParagraphs splits a dpkg status file into paragraphs. Field names
// are case-insensitive; continuation lines (starting with a space or tab)
// are accepted and ignored, since no field read here spans lines. A line
// that is neither a field nor a continuation is an error naming the line.
func parseParagraphs(data []byte, fn func(paragraph) error) error {
	var cur *paragraph
	flush := func() error {
		if cur == nil {
			return nil
		}
		p := *cur
		cur = nil
		return fn(p)
	}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		switch {
		case len(bytes.TrimSpace(l)) == 0:
			if err := flush(); err != nil {
				return err
			}
		case l[0] == ' ' || l[0] == '\t':
			if cur == nil {
				return fmt.Errorf("line %d: continuation line outside a paragraph", lineNo)
			}
		case l[0] == '#':
			// comment
		default:
			name, value, ok := bytes.Cut(l, []byte(":"))
			if !ok || len(bytes.TrimSpace(name)) == 0 {
				return fmt.Errorf("line %d: malformed field %q", lineNo, truncate(string(l), 40))
			}
			if cur == nil {
				cur = &paragraph{line: lineNo, fields: make(map[string]string)}
			}
			cur.fields[strings.ToLower(string(bytes.TrimSpace(name)))] = string(bytes.TrimSpace(value))
		}
	}
	return flush()
}

// truncate shortens s for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
