package apt

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/deb"
)

// Source is one binary repository suite to fetch packages from: a line
// of sources.list, or one URI × suite combination of a deb822 stanza.
type Source struct {
	// URI is the repository base ("http://deb.debian.org/debian").
	URI string
	// Suite is the distribution name under dists/ ("bookworm-security").
	Suite      string
	Components []string
	// Architectures restricts the source to these architectures; empty
	// means any.
	Architectures []string
	// SignedBy lists the keyring files (or key fingerprints) named by a
	// signed-by option, to be resolved by the caller into Keyring.
	SignedBy []string
	// Keyring verifies the suite's Release. It is set from an inline
	// Signed-By key; otherwise the caller sets it, or the Client's default
	// keyring is used.
	Keyring *Keyring
	// IgnoreValidUntil disables the Valid-Until check
	// (check-valid-until=no), as archived releases need.
	IgnoreValidUntil bool
	// Origin says where the source was defined ("sources.list:3").
	Origin string
}

// ParseSourcesList reads one-line style entries ("deb [opts] uri suite
// component…"). deb-src entries are skipped. name labels errors and
// Source.Origin.
func ParseSourcesList(r io.Reader, name string) ([]Source, error) {
	var out []Source
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		origin := fmt.Sprintf("%s:%d", name, n)
		src, ok, err := parseSourceLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", origin, err)
		}
		if ok {
			src.Origin = origin
			out = append(out, src)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}

// parseSourceLine parses one entry; ok is false for deb-src entries.
func parseSourceLine(line string) (src Source, ok bool, err error) {
	typ, rest := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		typ, rest = line[:i], strings.TrimSpace(line[i:])
	}
	switch typ {
	case "deb":
	case "deb-src":
		return Source{}, false, nil
	default:
		return Source{}, false, fmt.Errorf("unknown type %q", typ)
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return Source{}, false, fmt.Errorf("unterminated option list")
		}
		for opt := range strings.FieldsSeq(rest[1:end]) {
			if err := applyLineOption(&src, opt); err != nil {
				return Source{}, false, err
			}
		}
		rest = rest[end+1:]
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return Source{}, false, fmt.Errorf("expected URI and suite")
	}
	src.URI, src.Suite, src.Components = fields[0], fields[1], fields[2:]
	return src, true, checkSource(src)
}

// applyLineOption applies one "key=value" option of a one-line entry.
// Options that do not affect fetching binary packages are ignored.
func applyLineOption(src *Source, opt string) error {
	key, value, ok := strings.Cut(opt, "=")
	if !ok || value == "" {
		return fmt.Errorf("malformed option %q", opt)
	}
	switch key {
	case "arch", "arch+":
		src.Architectures = append(src.Architectures, splitList(value)...)
	case "signed-by":
		src.SignedBy = splitList(value)
	case "check-valid-until":
		src.IgnoreValidUntil = isFalse(value)
	}
	return nil
}

// ParseDeb822Sources reads a deb822 .sources file. Stanzas whose Types
// lack "deb" or with "Enabled: no" are skipped; each URI × suite of a
// stanza becomes one Source. Signed-By may name keyring files or hold an
// armored key inline.
func ParseDeb822Sources(r io.Reader, name string) ([]Source, error) {
	pr := deb.NewParagraphReader(r)
	var out []Source
	for n := 1; ; n++ {
		p, err := pr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		origin := fmt.Sprintf("%s: stanza %d", name, n)
		srcs, err := sourcesFromStanza(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", origin, err)
		}
		for _, s := range srcs {
			s.Origin = origin
			out = append(out, s)
		}
	}
}

func sourcesFromStanza(p deb.Paragraph) ([]Source, error) {
	if !slices.Contains(strings.Fields(p.Get("Types")), "deb") || isFalse(p.Get("Enabled")) {
		return nil, nil
	}
	uris, suites := strings.Fields(p.Get("URIs")), strings.Fields(p.Get("Suites"))
	if len(uris) == 0 || len(suites) == 0 {
		return nil, fmt.Errorf("URIs and Suites are required")
	}
	base := Source{
		Components:       strings.Fields(p.Get("Components")),
		Architectures:    strings.Fields(p.Get("Architectures")),
		IgnoreValidUntil: isFalse(p.Get("Check-Valid-Until")),
	}
	if signedBy, _ := p.Lookup("Signed-By"); strings.Contains(signedBy, armorPublicKeyHeader) {
		kr, err := ParseKeyring([]byte(inlineKey(signedBy)))
		if err != nil {
			return nil, fmt.Errorf("Signed-By: %w", err)
		}
		base.Keyring = kr
	} else {
		base.SignedBy = splitList(signedBy)
	}
	var out []Source
	for _, u := range uris {
		for _, s := range suites {
			src := base
			src.URI, src.Suite = u, s
			if err := checkSource(src); err != nil {
				return nil, err
			}
			out = append(out, src)
		}
	}
	return out, nil
}

// inlineKey turns a multi-line field value back into armored text: a line
// holding only "." stands for an empty line.
func inlineKey(value string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(value, "\n") {
		line = strings.TrimSpace(line)
		if line == "." {
			line = ""
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// checkSource enforces what apt requires of an entry: a suite ending in
// '/' (a flat repository) has no components, any other has at least one.
func checkSource(s Source) error {
	flat := strings.HasSuffix(s.Suite, "/")
	switch {
	case flat && len(s.Components) > 0:
		return fmt.Errorf("suite %q is an exact path and takes no components", s.Suite)
	case !flat && len(s.Components) == 0:
		return fmt.Errorf("suite %q needs at least one component", s.Suite)
	}
	return nil
}

// splitList splits option values on commas and whitespace.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// isFalse reports whether an apt boolean option value means false.
func isFalse(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "no", "false", "off", "0", "without", "disable":
		return true
	}
	return false
}
