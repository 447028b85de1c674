package ospkg

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/patchloop/patchloop/internal/deb"
)

// paragraph is one record of a deb822 control file (dpkg status).
type paragraph struct {
	line   int               // line number of its first field
	fields map[string]string // lower-cased field name to value (first line)
}

// parseParagraphs splits a dpkg status file into paragraphs with the one
// deb822 reader (deb.ParagraphReader): field names are case-insensitive
// and unique, # lines are comments, and a line that is neither a field nor
// a continuation is an error naming the line. Only the first line of each
// value is kept, since no field read here spans lines.
func parseParagraphs(data []byte, fn func(paragraph) error) error {
	pr := deb.NewParagraphReader(bytes.NewReader(data))
	for {
		dp, err := pr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := paragraph{line: pr.Start(), fields: make(map[string]string, len(dp.Fields))}
		for _, f := range dp.Fields {
			first, _, _ := strings.Cut(f.Value, "\n")
			p.fields[strings.ToLower(f.Name)] = strings.TrimSpace(first)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
}

// truncate shortens s for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
