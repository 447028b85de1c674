package ospkg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/patchloop/patchloop/internal/deb"
)

// paragraph is one record of a deb822 control file (dpkg status).
type paragraph struct {
	line   int               // line number of the first field
	fields map[string]string // lower-cased field name to value (first line)
}

// parseParagraphs splits a dpkg status file into paragraphs with the one
// deb822 reader (deb.ParagraphReader), keeping only the fields named in
// keep (lower case). Field names are case-insensitive and unique, # lines
// are comments, and a line that is neither a field nor a continuation is an
// error naming the line. Only the first line of each kept value is used,
// since no field read here spans lines. A line over MaxLineSize, a
// paragraph over MaxDpkgParagraphSize and a kept field over MaxIdentitySize
// are errors matching ErrTooLarge.
func parseParagraphs(data []byte, keep []string, fn func(paragraph) error) error {
	pr := deb.NewParagraphReader(bytes.NewReader(data))
	pr.SetLimits(deb.Limits{Line: MaxLineSize, Paragraph: MaxDpkgParagraphSize, Keep: keep})
	for {
		dp, err := pr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, deb.ErrTooLarge) {
			return fmt.Errorf("%w: %w", err, ErrTooLarge)
		}
		if err != nil {
			return err
		}
		p := paragraph{line: pr.Start(), fields: make(map[string]string, len(dp.Fields))}
		for i, f := range dp.Fields {
			first, _, _ := strings.Cut(f.Value, "\n")
			key := strings.ToLower(f.Name)
			if len(first) > MaxIdentitySize {
				return fmt.Errorf("line %d: %w", pr.FieldLine(i), tooLarge(p.what()+": field "+truncate(key, 40), len(first), MaxIdentitySize))
			}
			p.fields[key] = strings.TrimSpace(first)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
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
