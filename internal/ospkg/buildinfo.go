package ospkg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// BuildInfo is what a Red Hat image layer says about how it was built,
// which decides the products (CPEs) whose advisories apply to its
// packages: the content sets (repositories) of its content manifest, and
// the build NVR and architecture of its build Dockerfile.
type BuildInfo struct {
	// ContentSets are the repositories the layer's packages came from
	// ("rhel-9-for-x86_64-baseos-rpms"), from
	// root/buildinfo/content_manifests/*.json.
	ContentSets []string `json:"contentSets,omitempty"`
	// NVR is the image build's name-version-release
	// ("ubi8-container-8.0-126"), from the com.redhat.component label of
	// root/buildinfo/Dockerfile-* and the file name.
	NVR string `json:"nvr,omitempty"`
	// Arch is the "architecture" label of that Dockerfile.
	Arch string `json:"arch,omitempty"`
}

// Where Red Hat images keep their build information. Trivy reads content
// manifests from the first two directories (the second for RHCOS) and
// Dockerfile* from the third.
const (
	contentManifestsGlob = "root/buildinfo/content_manifests/*"
	rhcosBuildInfoGlob   = "usr/share/buildinfo/*"
	buildInfoGlob        = "root/buildinfo/*"
)

// maxContentSets caps the content sets of one manifest (real ones list
// a handful).
const maxContentSets = 1000

// buildInfoGlobs are the globs read for build information.
var buildInfoGlobs = []string{contentManifestsGlob, rhcosBuildInfoGlob, buildInfoGlob}

// usesBuildInfo reports whether a family's advisories are chosen by build
// information (Red Hat's scanner serves Red Hat and CentOS).
func usesBuildInfo(f Family) bool { return f == RedHat || f == CentOS }

// layerBuildInfo reads the build information of each layer from the
// files the build-information globs found, keyed by layer index. Within a
// layer, files are taken in path order; a later Dockerfile replaces the
// NVR and architecture, a later content manifest with content sets the
// content sets. Files that cannot be parsed are skipped, as Trivy skips
// them.
func layerBuildInfo(ctx context.Context, res *imagefs.Result) map[int]*BuildInfo {
	var nodes []imagefs.Node
	for _, g := range buildInfoGlobs {
		nodes = append(nodes, res.Globs[g]...)
	}
	slices.SortFunc(nodes, func(a, b imagefs.Node) int { return strings.Compare(a.Path, b.Path) })
	nodes = slices.CompactFunc(nodes, func(a, b imagefs.Node) bool { return a.Path == b.Path })
	out := map[int]*BuildInfo{}
	for _, n := range nodes {
		if n.Kind != imagefs.KindRegular {
			continue
		}
		dir, file := path.Split(n.Path)
		var (
			bi  BuildInfo
			err error
		)
		switch {
		case (dir == "root/buildinfo/content_manifests/" || dir == "usr/share/buildinfo/") && path.Ext(file) == ".json":
			bi.ContentSets, err = parseContentManifest(n.Content)
			if err == nil && len(bi.ContentSets) == 0 {
				continue
			}
		case dir == "root/buildinfo/" && strings.HasPrefix(file, "Dockerfile"):
			bi.NVR, bi.Arch, err = parseBuildDockerfile(n.Path, n.Content)
		default:
			continue
		}
		if err != nil {
			slog.DebugContext(ctx, "skipping unreadable build information", "layer", n.Layer.String(), "file", n.Path, "err", err)
			continue
		}
		cur := out[n.Layer.Index]
		switch {
		case cur == nil:
			out[n.Layer.Index] = &bi
		case bi.ContentSets != nil:
			cur.ContentSets = bi.ContentSets
		default:
			cur.NVR, cur.Arch = bi.NVR, bi.Arch
		}
	}
	return out
}

// assignBuildInfo gives each rpm package the build information Trivy
// gives it: that of the package's layer; for the bottom layer, which Red
// Hat images build without content sets, that of the layer above it; for
// other layers without any (a user's layers on a Red Hat base), that of
// the nearest layer below that has some.
//
// Each package's copy counts towards MaxInventorySize (a cache entry
// repeats it per package); going over is an error.
//
// The package's layer here is the layer of the rpm database it was read
// from (see Package.Layer), where Trivy uses the lowest layer whose
// database lists the same version: the two differ only when several
// layers carry different build information.
func assignBuildInfo(pkgs []Package, infos map[int]*BuildInfo) error {
	if len(infos) == 0 {
		return nil
	}
	total := 0
	for i := range pkgs {
		if pkgs[i].Type != RPM {
			continue
		}
		bi := lookupBuildInfo(pkgs[i].Layer.Index, infos)
		if bi == nil {
			continue
		}
		if total += bi.size(); total > MaxInventorySize {
			return fmt.Errorf("build information (root/buildinfo) repeated for %d packages: %w", len(pkgs), tooLarge("inventory", total, MaxInventorySize))
		}
		pkgs[i].BuildInfo = bi
	}
	return nil
}

// size estimates the bytes b takes in a cache entry.
func (b *BuildInfo) size() int {
	n := 64 + len(b.NVR) + len(b.Arch)
	for _, s := range b.ContentSets {
		n += len(s) + 3
	}
	return n
}

func lookupBuildInfo(index int, infos map[int]*BuildInfo) *BuildInfo {
	if bi := infos[index]; bi != nil {
		return bi
	}
	if index == 0 {
		return infos[1]
	}
	for i := index - 1; i >= 0; i-- {
		if bi := infos[i]; bi != nil {
			return bi
		}
	}
	return nil
}

// parseContentManifest reads the content_sets of a content manifest (its
// first JSON value, as Trivy decodes it).
func parseContentManifest(data []byte) ([]string, error) {
	var m struct {
		ContentSets []string `json:"content_sets"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid content manifest: %w", err)
	}
	if len(m.ContentSets) > maxContentSets {
		return nil, fmt.Errorf("%d content sets, more than %d: %w", len(m.ContentSets), maxContentSets, ErrTooLarge)
	}
	for _, s := range m.ContentSets {
		if len(s) > MaxIdentitySize {
			return nil, tooLarge("content set", len(s), MaxIdentitySize)
		}
	}
	return m.ContentSets, nil
}

// parseBuildDockerfile reads the build Dockerfile Red Hat keeps in
// root/buildinfo (named "Dockerfile-<name>-<version>-<release>"): the
// com.redhat.component (or BZComponent) and architecture labels, with
// ARG defaults and ENV values substituted. The NVR is the component, a
// dash, and the last two dash-separated parts of the file path.
func parseBuildDockerfile(filePath string, data []byte) (nvr, arch string, err error) {
	var (
		component string
		env       = map[string]string{}
		inStage   bool
	)
	for _, ins := range dockerfileInstructions(data) {
		switch ins.cmd {
		case "from":
			inStage = true
		case "arg":
			if inStage {
				continue // a stage's ARG has no value while parsing
			}
			for _, w := range splitWords(ins.args) {
				k, v, _ := strings.Cut(w, "=")
				env[k] = expandWord(v, nil)
			}
		case "env", "label":
			if !inStage {
				return "", "", fmt.Errorf("%s before FROM", strings.ToUpper(ins.cmd))
			}
			for _, kv := range keyValues(ins.args) {
				key, value := expandWord(kv[0], env), expandWord(kv[1], env)
				if ins.cmd == "env" {
					env[key] = value
					continue
				}
				switch strings.ToLower(key) {
				case "com.redhat.component", "bzcomponent":
					component = value
				case "architecture":
					arch = value
				}
			}
		}
	}
	switch {
	case component == "":
		return "", "", errors.New("no com.redhat.component label")
	case arch == "":
		return "", "", errors.New("no architecture label")
	case len(component)+len(arch)+len(filePath) > MaxIdentitySize:
		return "", "", tooLarge("build NVR", len(component)+len(arch)+len(filePath), MaxIdentitySize)
	}
	return component + "-" + nvrVersion(filePath), arch, nil
}

// nvrVersion returns the text after the second-to-last dash of the build
// Dockerfile's path ("8.0-126" for root/buildinfo/Dockerfile-ubi8-8.0-126),
// as Trivy takes it.
func nvrVersion(p string) string {
	rel := strings.LastIndexByte(p, '-')
	if rel < 0 {
		return ""
	}
	return p[strings.LastIndexByte(p[:rel], '-')+1:]
}

// instruction is one Dockerfile instruction: its lower-cased command and
// the rest of its (joined) lines.
type instruction struct {
	cmd, args string
}

// dockerfileInstructions splits a Dockerfile into instructions, joining
// lines continued with a trailing backslash and skipping comments and
// blank lines (also inside continuations).
func dockerfileInstructions(data []byte) []instruction {
	var (
		out  []instruction
		cur  strings.Builder
		cont bool
	)
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s == "" {
			return
		}
		cmd, args := s, ""
		if i := strings.IndexAny(s, " \t"); i >= 0 {
			cmd, args = s[:i], s[i+1:]
		}
		out = append(out, instruction{cmd: strings.ToLower(cmd), args: strings.TrimSpace(args)})
	}
	for _, l := range lines(data) {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") || (cont && t == "") {
			continue
		}
		if s, ok := strings.CutSuffix(t, `\`); ok {
			cur.WriteString(s)
			cur.WriteByte(' ')
			cont = true
			continue
		}
		cur.WriteString(t)
		cont = false
		flush()
	}
	flush()
	return out
}

// keyValues splits LABEL or ENV arguments into key/value pairs: "k=v"
// words, or the legacy "key value…" form when the first word has no "=".
func keyValues(args string) [][2]string {
	words := splitWords(args)
	if len(words) == 0 {
		return nil
	}
	if _, _, ok := cutUnquoted(words[0], '='); !ok {
		key, value, _ := strings.Cut(args, " ")
		return [][2]string{{key, strings.TrimSpace(value)}}
	}
	var out [][2]string
	for _, w := range words {
		k, v, _ := cutUnquoted(w, '=')
		out = append(out, [2]string{k, v})
	}
	return out
}

// splitWords splits s at whitespace outside quotes, keeping the quotes.
func splitWords(s string) []string {
	var (
		out   []string
		cur   strings.Builder
		quote byte
		in    bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && (c == ' ' || c == '\t'):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
			continue
		case c == '\\' && quote != '\'' && i+1 < len(s):
			cur.WriteByte(c)
			i++
			c = s[i]
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case c == quote:
			quote = 0
		}
		cur.WriteByte(c)
		in = true
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// cutUnquoted cuts w at the first sep outside quotes.
func cutUnquoted(w string, sep byte) (before, after string, ok bool) {
	var quote byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '\\' && quote != '\'':
			i++
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case c == quote:
			quote = 0
		case quote == 0 && c == sep:
			return w[:i], w[i+1:], true
		}
	}
	return w, "", false
}

// maxExpandDepth bounds nested ${NAME:-…} defaults, so that a crafted
// Dockerfile cannot make expansion recurse once per byte.
const maxExpandDepth = 8

// expandWord removes the quotes of a shell-style word and substitutes
// $NAME, ${NAME}, ${NAME:-default} and ${NAME:+alternative} from env
// outside single quotes (unknown names are empty).
func expandWord(w string, env map[string]string) string { return expandDepth(w, env, 0) }

func expandDepth(w string, env map[string]string, depth int) string {
	var (
		out   strings.Builder
		quote byte
	)
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '\\' && quote != '\'' && i+1 < len(w):
			n := w[i+1]
			if quote == '"' && n != '"' && n != '\\' && n != '$' {
				out.WriteByte(c)
				continue
			}
			out.WriteByte(n)
			i++
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case c == quote:
			quote = 0
		case c == '$' && quote != '\'' && env != nil:
			v, n := expandVar(w[i+1:], env, depth)
			out.WriteString(v)
			i += n
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}

// expandVar expands the variable reference at the start of s (after the
// "$"); it returns the value and how many bytes of s it used.
func expandVar(s string, env map[string]string, depth int) (string, int) {
	isName := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if strings.HasPrefix(s, "{") {
		end := closingBrace(s)
		if end < 0 {
			return "$", 0
		}
		ref := s[1:end]
		nested := func(w string) string {
			if depth >= maxExpandDepth {
				return w
			}
			return expandDepth(w, env, depth+1)
		}
		if name, def, ok := strings.Cut(ref, ":-"); ok {
			if v := env[name]; v != "" {
				return v, end + 1
			}
			return nested(def), end + 1
		}
		if name, alt, ok := strings.Cut(ref, ":+"); ok {
			if env[name] != "" {
				return nested(alt), end + 1
			}
			return "", end + 1
		}
		return env[ref], end + 1
	}
	n := 0
	for n < len(s) && isName(s[n]) {
		n++
	}
	if n == 0 {
		return "$", 0
	}
	return env[s[:n]], n
}

// closingBrace returns the index of the "}" that closes the "{" at the
// start of s, counting nested braces; -1 when there is none.
func closingBrace(s string) int {
	open := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			open++
		case '}':
			if open--; open == 0 {
				return i
			}
		}
	}
	return -1
}
