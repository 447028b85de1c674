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

// ErrTooLarge is matched (errors.Is) by the errors of a ParagraphReader
// about input over one of its Limits.
var ErrTooLarge = errors.New("over the size cap")

// Limits bound what a ParagraphReader accepts from untrusted input. A zero
// field means no cap of that kind beyond the reader's built-in line cap
// (4 MiB).
type Limits struct {
	// Line caps one physical line, its line ending included.
	Line int
	// Paragraph caps all the lines of one paragraph together, fields not
	// kept included.
	Paragraph int
	// Keep, when not nil, lists the lower-case names of the fields Next
	// returns; every other field is read and checked but not stored, so
	// long values nobody uses cost no memory.
	Keep []string
}

// ParagraphReader reads deb822 paragraphs one at a time from a stream, so
// that large indexes need not be held in memory as text.
type ParagraphReader struct {
	r      *bufio.Reader
	line   int
	start  int
	lines  []int // of the fields of the paragraph Next returned last
	limits Limits

	// Reused between paragraphs, so that fields not kept cost no
	// allocation.
	long  []byte               // a line longer than r's buffer
	cont  []byte               // continuation lines of the last kept field
	seen  map[string]bool      // lower-case names of this paragraph's fields
	names map[string]fieldName // checked names, by their spelling
}

// fieldName is a checked field name and its lower-case key.
type fieldName struct{ name, key string }

// maxCachedNames bounds ParagraphReader.names against inputs that use
// many different field names.
const maxCachedNames = 512

// FieldLine returns the line number of the i-th field of the paragraph
// Next returned last, for error messages about one field.
func (pr *ParagraphReader) FieldLine(i int) int {
	if i < 0 || i >= len(pr.lines) {
		return pr.start
	}
	return pr.lines[i]
}

// SetLimits sets the caps and the field filter applied by Next.
func (pr *ParagraphReader) SetLimits(l Limits) { pr.limits = l }

// TooLargeError is a line or paragraph over a cap of Limits. It matches
// ErrTooLarge.
type TooLargeError struct {
	// Line is where the line or the paragraph starts.
	Line int
	// What is "line" or "paragraph".
	What string
	// Limit is the cap in bytes.
	Limit int
}

// Error implements error.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("line %d: %s over the %d-byte cap", e.Line, e.What, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// tooLarge reports a line or paragraph over limit.
func tooLarge(line int, what string, limit int) error {
	return &TooLargeError{Line: line, What: what, Limit: limit}
}

// keep reports whether Next stores the field key (lower case).
func (pr *ParagraphReader) keep(key string) bool {
	if pr.limits.Keep == nil {
		return true
	}
	for _, k := range pr.limits.Keep {
		if k == key {
			return true
		}
	}
	return false
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
		p       Paragraph
		started bool // a field was read, kept or not
		size    int  // bytes of the paragraph so far
		kept    bool // the last field read is the last of p.Fields
	)
	if pr.seen == nil {
		pr.seen = map[string]bool{}
	}
	clear(pr.seen)
	pr.lines = pr.lines[:0]
	pr.cont = pr.cont[:0]
	// flushCont appends the continuation lines of the last kept field at
	// once, so that a field of many lines costs linear time.
	flushCont := func() {
		if len(pr.cont) > 0 {
			last := &p.Fields[len(p.Fields)-1]
			last.Value += string(pr.cont)
			pr.cont = pr.cont[:0]
		}
	}
	for {
		line, err := pr.readLine()
		if err == io.EOF {
			flushCont()
			if !started {
				return Paragraph{}, io.EOF
			}
			return p, nil
		}
		if err != nil {
			return Paragraph{}, err
		}
		if started && pr.limits.Paragraph > 0 {
			if size += len(line) + 1; size > pr.limits.Paragraph {
				return Paragraph{}, tooLarge(pr.start, "paragraph", pr.limits.Paragraph)
			}
		}
		switch {
		case len(bytes.Trim(line, " \t\r")) == 0:
			if started {
				flushCont()
				return p, nil
			}
		case line[0] == '#':
			// Comment.
		case line[0] == ' ' || line[0] == '\t':
			if !started {
				return Paragraph{}, fmt.Errorf("line %d: continuation line without a field", pr.line)
			}
			if kept {
				pr.cont = append(pr.cont, '\n')
				pr.cont = append(pr.cont, bytes.TrimRight(line[1:], " \t\r")...)
			}
		default:
			i := bytes.IndexByte(line, ':')
			if i < 0 {
				return Paragraph{}, fmt.Errorf("line %d: malformed field %q: want \"Field: value\"", pr.line, truncate(string(line)))
			}
			fn, err := pr.fieldName(line[:i])
			if err != nil {
				return Paragraph{}, fmt.Errorf("line %d: %w", pr.line, err)
			}
			if pr.seen[fn.key] {
				return Paragraph{}, fmt.Errorf("line %d: duplicate field %q", pr.line, fn.name)
			}
			pr.seen[fn.key] = true
			if !started {
				started, size = true, len(line)+1
				pr.start = pr.line
			}
			flushCont()
			if kept = pr.keep(fn.key); kept {
				p.Fields = append(p.Fields, Field{Name: fn.name, Value: string(bytes.TrimSpace(line[i+1:]))})
				pr.lines = append(pr.lines, pr.line)
			}
		}
	}
}

// fieldName checks a field name and returns it with its lower-case key,
// from a cache when the name was seen before.
func (pr *ParagraphReader) fieldName(b []byte) (fieldName, error) {
	if fn, ok := pr.names[string(b)]; ok {
		return fn, nil
	}
	name := string(b)
	if err := checkFieldName(name); err != nil {
		return fieldName{}, err
	}
	fn := fieldName{name: name, key: strings.ToLower(name)}
	if pr.names == nil {
		pr.names = map[string]fieldName{}
	}
	if len(pr.names) < maxCachedNames {
		pr.names[name] = fn
	}
	return fn, nil
}

// lineLimit is the cap on one line: Limits.Line, at most maxLineLen.
func (pr *ParagraphReader) lineLimit() int {
	if l := pr.limits.Line; l > 0 && l < maxLineLen {
		return l
	}
	return maxLineLen
}

// readLine returns the next line without its line ending; it returns io.EOF
// only when no bytes remain. The line is valid until the next call.
func (pr *ParagraphReader) readLine() ([]byte, error) {
	limit := pr.lineLimit()
	if cap(pr.long) > 1<<20 {
		pr.long = nil
	}
	line, err := pr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		pr.long = append(pr.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(pr.long) > limit {
				return nil, tooLarge(pr.line+1, "line", limit)
			}
			line, err = pr.r.ReadSlice('\n')
			pr.long = append(pr.long, line...)
		}
		line = pr.long
	}
	if len(line) > limit {
		return nil, tooLarge(pr.line+1, "line", limit)
	}
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("line %d: %w", pr.line+1, err)
	}
	pr.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
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
