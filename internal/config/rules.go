package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/patchloop/patchloop/internal/tags"
)

// Limits from the OCI distribution spec.
const (
	maxRepositoryLen = 255
	maxTagLen        = 128
)

var (
	// repositoryPattern is the repository name grammar of the OCI
	// distribution spec.
	repositoryPattern = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	// tagPattern is the tag grammar of the OCI distribution spec.
	tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// checkRepository returns what is wrong with a repository name, or "".
func checkRepository(name string) string {
	switch {
	case name == "":
		return `must not be empty; name the repository, such as "ubuntu"`
	case len(name) > maxRepositoryLen:
		return fmt.Sprintf("repository name is %d characters long; the limit is %d", len(name), maxRepositoryLen)
	case repositoryPattern.MatchString(name):
		return ""
	case repositoryPattern.MatchString(strings.ToLower(name)):
		return fmt.Sprintf("invalid repository name %s: repository names are lowercase; write %s", quote(name), quote(strings.ToLower(name)))
	}
	if i := strings.IndexAny(name, ":@"); i > 0 && repositoryPattern.MatchString(name[:i]) {
		return fmt.Sprintf("invalid repository name %s: write the repository name alone, such as %s, and list tags in \"tags\"", quote(name), quote(name[:i]))
	}
	return fmt.Sprintf("invalid repository name %s: use lowercase letters and digits, "+
		"separated by '.', '_', '__' or '-' within a path component and by '/' between components", quote(name))
}

// checkTag returns what is wrong with a listed tag other than "*", or "".
func checkTag(tag string) string {
	switch {
	case tag == "":
		return `tag must not be empty; list tags such as "jammy-20240111", or use "*" alone for all tags`
	case strings.Contains(tag, Wildcard):
		return fmt.Sprintf(`invalid tag %s: wildcards within tags are not supported; list each tag, or use "*" alone for all tags`, quote(tag))
	case len(tag) > maxTagLen:
		return fmt.Sprintf("invalid tag %s: tags are at most %d characters long", quote(tag), maxTagLen)
	case !tagPattern.MatchString(tag):
		return fmt.Sprintf("invalid tag %s: use letters, digits, '_', '.' and '-', not starting with '.' or '-'", quote(tag))
	case tags.IsPatchTag(tag):
		return fmt.Sprintf("tag %s is reserved for patched images (it ends in -1 to -999 or -patched); list the original tag %s instead",
			quote(tag), quote(originalOf(tag)))
	}
	return ""
}

// originalOf strips patch suffixes until an original tag remains.
func originalOf(tag string) string {
	for tags.IsPatchTag(tag) {
		tag = tags.Classify(tag).Original
	}
	return tag
}

// fieldSet is the fields of one kind of object.
type fieldSet struct {
	names []string
	// elsewhere maps fields of the other kind of object to where they belong.
	elsewhere map[string]string
}

var (
	topFields = fieldSet{
		names:     []string{fieldVersion, fieldConvention, fieldRepositories},
		elsewhere: map[string]string{fieldRepository: `inside an entry of "repositories"`, fieldTags: `inside an entry of "repositories"`, fieldEnabled: `inside an entry of "repositories"`},
	}
	repoFields = fieldSet{
		names:     []string{fieldRepository, fieldTags, fieldEnabled},
		elsewhere: map[string]string{fieldVersion: "at the top level", fieldConvention: "at the top level", fieldRepositories: "at the top level"},
	}
)

// unknown explains an unknown field and what to write instead.
func (fs fieldSet) unknown(key string) string {
	if where, ok := fs.elsewhere[key]; ok {
		return fmt.Sprintf("field %q belongs %s; move it there", key, where)
	}
	if s := suggest(key, fs.names); s != "" {
		return fmt.Sprintf("unknown field %s (did you mean %q?)", quote(key), s)
	}
	known := make([]string, len(fs.names))
	for i, n := range fs.names {
		known[i] = strconv.Quote(n)
	}
	return fmt.Sprintf("unknown field %s; the fields here are %s and %s",
		quote(key), strings.Join(known[:len(known)-1], ", "), known[len(known)-1])
}

// suggest returns the candidate closest to word, or "" if none is close.
func suggest(word string, candidates []string) string {
	if len(word) > 64 {
		return ""
	}
	w := strings.ToLower(word)
	best, bestDist := "", 3
	for _, c := range candidates {
		if dist := levenshtein(w, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best != "" || len(w) < 3 {
		return best
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, w) {
			return c
		}
	}
	return ""
}

// levenshtein returns the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quote quotes s for a message, shortening it to about 64 bytes.
func quote(s string) string {
	const limit = 64
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// joinPath appends the field key to the JSON path parent, bracketing keys
// that are not plain words.
func joinPath(parent, key string) string {
	plain := key != "" && len(key) <= 64
	for i := 0; i < len(key) && plain; i++ {
		c := key[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '-'
	}
	switch {
	case !plain:
		return parent + "[" + quote(key) + "]"
	case parent == "":
		return key
	}
	return parent + "." + key
}
