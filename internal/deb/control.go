package deb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLineLen bounds one physical line of deb822 input so that a hostile
// input without newlines cannot exhaust memory.
const maxLineLen = 4 << 20

// Field is one field of a deb822 paragraph. Value holds the text after the
// colon with surrounding blanks removed; each continuation line follows as
// "\n" plus the line without its leading space or tab. A field whose first
// line is empty (such as SHA256 in a Release file) has a Value starting with
// "\n".
type Field struct {
	Name  string
	Value string
}

// Paragraph is one deb822 stanza: an ordered list of fields whose names are
// unique and compared case-insensitively.
type Paragraph struct {
	Fields []Field
}

// Lookup returns the value of the named field and whether it is present.
func (p Paragraph) Lookup(name string) (string, bool) {
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// Get returns the value of the named field with surrounding whitespace
// removed, or "" when the field is absent.
func (p Paragraph) Get(name string) string {
	v, _ := p.Lookup(name)
	return strings.TrimSpace(v)
}

// Lines returns the non-empty lines of a multi-line field such as SHA256 or
// Conffiles, each trimmed of surrounding whitespace.
func (p Paragraph) Lines(name string) []string {
	v, _ := p.Lookup(name)
	var out []string
	for line := range strings.SplitSeq(v, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// Set replaces the value of the named field, or appends the field when it is
// absent.
func (p *Paragraph) Set(name, value string) {
	for i, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			p.Fields[i].Value = value
			return
		}
	}
	p.Fields = append(p.Fields, Field{Name: name, Value: value})
}

// MarshalText renders the paragraph in deb822 syntax, one field per line
// and continuation lines indented by one space, without a trailing blank
// line. It fails on invalid field names and on values that would not parse
// back (an empty or blank continuation line).
func (p Paragraph) MarshalText() ([]byte, error) {
	var b bytes.Buffer
	seen := make(map[string]bool, len(p.Fields))
	for _, f := range p.Fields {
		if err := checkFieldName(f.Name); err != nil {
			return nil, err
		}
		key := strings.ToLower(f.Name)
		if seen[key] {
			return nil, fmt.Errorf("field %q: duplicate", f.Name)
		}
		seen[key] = true
		first, rest, multi := strings.Cut(f.Value, "\n")
		first = strings.TrimSpace(first)
		b.WriteString(f.Name)
		b.WriteByte(':')
		if first != "" {
			b.WriteByte(' ')
			b.WriteString(first)
		}
		b.WriteByte('\n')
		if !multi {
			continue
		}
		for line := range strings.SplitSeq(rest, "\n") {
			line = strings.TrimRight(line, " \t\r")
			if line == "" {
				return nil, fmt.Errorf("field %q: empty continuation line", f.Name)
			}
			b.WriteByte(' ')
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), nil
}

// checkFieldName enforces the deb822 field name syntax: printable US-ASCII
// other than space and colon, not starting with '#' or '-'.
func checkFieldName(name string) error {
	if name == "" {
		return errors.New("empty field name")
	}
	if name[0] == '#' || name[0] == '-' {
		return fmt.Errorf("field name %q: must not start with %q", name, name[0])
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return fmt.Errorf("field name %q: invalid character %q", name, c)
		}
	}
	return nil
}

// ParagraphReader reads deb822 paragraphs one at a time from a stream, so
// that large indexes need not be held in memory as text.
type ParagraphReader struct {
	r     *bufio.Reader
	line  int
	start int
}

// NewParagraphReader returns a reader of the deb822 paragraphs in r.
func NewParagraphReader(r io.Reader) *ParagraphReader {
	return &ParagraphReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Line returns the number of lines consumed so far, for error messages.
func (pr *ParagraphReader) Line() int { return pr.line }

// Start returns the line number of the first field of the paragraph Next
// returned last, for error messages about its content.
func (pr *ParagraphReader) Start() int { return pr.start }

// Next returns the next paragraph, or io.EOF when the input holds no more.
// Blank lines (empty or only spaces and tabs) separate paragraphs, lines
// starting with '#' are comments, and a line starting with a space or tab
// continues the previous field.
func (pr *ParagraphReader) Next() (Paragraph, error) {
	var (
		p    Paragraph
		seen = map[string]bool{}
	)
	for {
		line, err := pr.readLine()
		if err == io.EOF {
			if len(p.Fields) == 0 {
				return Paragraph{}, io.EOF
			}
			return p, nil
		}
		if err != nil {
			return Paragraph{}, err
		}
		switch {
		case strings.Trim(line, " \t\r") == "":
			if len(p.Fields) > 0 {
				return p, nil
			}
		case line[0] == '#':
			// Comment.
		case line[0] == ' ' || line[0] == '\t':
			if len(p.Fields) == 0 {
				return Paragraph{}, fmt.Errorf("line %d: continuation line without a field", pr.line)
			}
			last := &p.Fields[len(p.Fields)-1]
			last.Value += "\n" + strings.TrimRight(line[1:], " \t\r")
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				return Paragraph{}, fmt.Errorf("line %d: malformed field %q: want \"Field: value\"", pr.line, truncate(line))
			}
			if err := checkFieldName(name); err != nil {
				return Paragraph{}, fmt.Errorf("line %d: %w", pr.line, err)
			}
			key := strings.ToLower(name)
			if seen[key] {
				return Paragraph{}, fmt.Errorf("line %d: duplicate field %q", pr.line, name)
			}
			seen[key] = true
			if len(p.Fields) == 0 {
				pr.start = pr.line
			}
			p.Fields = append(p.Fields, Field{Name: name, Value: strings.TrimSpace(value)})
		}
	}
}

// readLine returns the next line without its line ending; it returns io.EOF
// only when no bytes remain.
func (pr *ParagraphReader) readLine() (string, error) {
	var buf []byte
	for {
		chunk, err := pr.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLineLen {
			return "", fmt.Errorf("line %d: longer than %d bytes", pr.line+1, maxLineLen)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(buf) == 0 {
			return "", io.EOF
		}
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("line %d: %w", pr.line+1, err)
		}
		pr.line++
		s := strings.TrimSuffix(string(buf), "\n")
		return strings.TrimSuffix(s, "\r"), nil
	}
}

// ParseParagraphs reads every deb822 paragraph in r.
func ParseParagraphs(r io.Reader) ([]Paragraph, error) {
	pr := NewParagraphReader(r)
	var out []Paragraph
	for {
		p, err := pr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
}

// ParseParagraph reads exactly one deb822 paragraph, as in a package's
// control file or a Release file.
func ParseParagraph(data []byte) (Paragraph, error) {
	ps, err := ParseParagraphs(bytes.NewReader(data))
	if err != nil {
		return Paragraph{}, err
	}
	if len(ps) != 1 {
		return Paragraph{}, fmt.Errorf("expected one paragraph, found %d", len(ps))
	}
	return ps[0], nil
}

// truncate shortens s for inclusion in an error message.
func truncate(s string) string {
	const n = 60
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SplitParagraphs splits deb822 data into its paragraphs, raw — every
// byte of each kept, comments included, a final newline added where the
// data lacks one — without the separating blank lines. It is for
// rewriting a file (a dpkg status file) while keeping the bytes of the
// paragraphs that do not change; ParagraphReader parses each.
func SplitParagraphs(data []byte) [][]byte {
	var out [][]byte
	var cur []byte
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, line...)
		if line[len(line)-1] != '\n' {
			cur = append(cur, '\n')
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
