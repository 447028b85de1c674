package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// foreignFlags are flags of other tools that Patchloop's texts mention
// (Trivy's, crane's, oras', skopeo's, podman's, docker's, rpm's), never offered
// as Patchloop's own.
var foreignFlags = map[string]bool{
	"--show-suppressed": true, // Trivy, in scan's help
	"--format":          true, // crane pull --format oci, podman save --format
	"--to-oci-layout":   true, // oras copy
	"--export":          true, // gpg --export, in the keyring error
	"--resource-group":  true, // az's -g, which the error explains Patchloop has not
	"--rebuilddb":       true, // rpmdb --rebuilddb, in the rpm database errors
}

// flagToken is a long flag as it appears in prose: --name, --name=value.
var flagToken = regexp.MustCompile(`--[a-z][a-z0-9-]*[a-z0-9]`)

// TestAdviceNamesExistingFlags reads every string literal of the
// program's source (errors, log messages, help texts and examples) and
// checks the flags they tell the user to pass: after "patchloop CMD …" a
// flag must be one CMD takes; any other --flag must be one some command
// takes. Advice naming a flag that does not exist fails here.
func TestAdviceNamesExistingFlags(t *testing.T) {
	root := NewRootCommand(strings.NewReader(""), io.Discard, io.Discard)
	anywhere := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { anywhere["--"+f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { anywhere["--"+f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	anywhere["--help"], anywhere["--version"] = true, true

	checked := 0
	for _, lit := range programStrings(t, "../..") {
		// "patchloop CMD … --flag": the flag must be CMD's.
		for _, seg := range commandSegments(lit.text) {
			cmd, rest := resolve(root, seg)
			if cmd == root {
				continue
			}
			for _, f := range flagToken.FindAllString(rest, -1) {
				checked++
				if cmd.Flags().Lookup(f[2:]) == nil && cmd.InheritedFlags().Lookup(f[2:]) == nil && f != "--help" {
					t.Errorf("%s: %q tells the user to run `%s %s`, which has no such flag", lit.pos, seg, cmd.CommandPath(), f)
				}
			}
		}
		for _, f := range flagToken.FindAllString(lit.text, -1) {
			checked++
			if !anywhere[f] && !foreignFlags[f] {
				t.Errorf("%s: %q names %s, which no patchloop command takes", lit.pos, abbreviate(lit.text), f)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d flag mentions found: the source walk is broken", checked)
	}
}

// commandSegments returns the "patchloop …" commands in s, each up to the
// end of its line, code span or sentence.
func commandSegments(s string) []string {
	var segs []string
	for {
		i := strings.Index(s, "patchloop ")
		if i < 0 {
			return segs
		}
		s = s[i+len("patchloop "):]
		end := strings.IndexAny(s, "`\n);,'\"")
		if end < 0 {
			end = len(s)
		}
		segs = append(segs, s[:end])
	}
}

// resolve descends the command tree along the leading words of seg and
// returns the command reached and the rest of seg.
func resolve(root *cobra.Command, seg string) (*cobra.Command, string) {
	cmd, words := root, strings.Fields(seg)
	i := 0
	for ; i < len(words); i++ {
		var next *cobra.Command
		for _, sub := range cmd.Commands() {
			if sub.Name() == words[i] || sub.HasAlias(words[i]) {
				next = sub
			}
		}
		if next == nil {
			break
		}
		cmd = next
	}
	return cmd, strings.Join(words[i:], " ")
}

type literal struct {
	pos  string
	text string
}

// programStrings returns the string literals of every non-test Go file of
// the program under dir (test helpers excluded).
func programStrings(t *testing.T, dir string) []literal {
	t.Helper()
	var out []literal
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testutil" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != dir {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, literal{pos: fset.Position(lit.Pos()).String(), text: s})
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pos < out[j].pos })
	return out
}

func abbreviate(s string) string {
	if len(s) > 80 {
		return s[:77] + "…"
	}
	return s
}
