package ospkg

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// paragraph is one record of a deb822 control file (dpkg status).
type paragraph struct {
	line   int               // line number of its first field
	fields map[string]string // lower-cased field name to value (first line)
}

// parseParagraphs splits a dpkg status file into paragraphs, keeping only
// the fields named in keep (lower case). Field names are case-insensitive;
// continuation lines (starting with a space or tab) are accepted and
// ignored, since no field read here spans lines. A line that is neither a
// field nor a continuation is an error naming the line, and so are a line
// over MaxLineSize, a paragraph over MaxDpkgParagraphSize and a kept field
// over MaxIdentitySize.
func parseParagraphs(data []byte, keep []string, fn func(paragraph) error) error {
	var (
		cur  *paragraph
		size int // bytes of the current paragraph so far
	)
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
		if len(l) > MaxLineSize {
			return fmt.Errorf("line %d: %w", lineNo, tooLarge("line", len(l), MaxLineSize))
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if cur != nil {
			if size += len(l) + 1; size > MaxDpkgParagraphSize {
				return fmt.Errorf("line %d: %w", cur.line, tooLarge(cur.what(), size, MaxDpkgParagraphSize))
			}
		}
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
				cur, size = &paragraph{line: lineNo, fields: make(map[string]string, len(keep))}, len(l)+1
			}
			key := strings.ToLower(string(bytes.TrimSpace(name)))
			if !slices.Contains(keep, key) {
				continue
			}
			value = bytes.TrimSpace(value)
			if len(value) > MaxIdentitySize {
				return fmt.Errorf("line %d: %w", lineNo, tooLarge(cur.what()+": field "+truncate(key, 40), len(value), MaxIdentitySize))
			}
			cur.fields[key] = string(value)
		}
	}
	return flush()
}

// what names the paragraph in errors: by its Package field once known.
func (p *paragraph) what() string {
	if name := p.fields["package"]; name != "" {
		return "package " + name
	}
	return "paragraph"
}

// truncate shortens s for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
