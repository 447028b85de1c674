package rpmmd

import (
	"encoding/xml"
	"path"
	"strings"

	"github.com/patchloop/patchloop/internal/rpm"
)

// Vars are the substitution variables of repository files, by name
// without the "$": releasever, basearch, arch, and those of the image's
// variable files (contentdir, stream, …).
type Vars map[string]string

// VarDirs are the image directories whose files define variables, one a
// file (its name the variable, its first line the value): dnf's and yum's,
// then zypper's.
var VarDirs = []string{"etc/dnf/vars", "etc/yum/vars", "etc/zypp/vars.d"}

// NewVars returns the built-in variables for a machine architecture (as
// rpm names it: "x86_64", "aarch64", "i686") and a release version.
func NewVars(arch, releasever string) Vars {
	v := Vars{"arch": arch, "basearch": BaseArch(arch)}
	if releasever != "" {
		v["releasever"] = releasever
		major, minor, _ := strings.Cut(releasever, ".")
		v["releasever_major"], v["releasever_minor"] = major, minor
	}
	return v
}

// AddFile sets a variable from a variables file at image path p: the
// variable is the file name, the value its first line. Names that are not
// identifiers are ignored, as dnf ignores them.
func (v Vars) AddFile(p string, data []byte) {
	name := path.Base(p)
	if !validName(name) {
		return
	}
	line, _, _ := strings.Cut(string(data), "\n")
	v[name] = strings.TrimSpace(line)
}

// validName reports whether s is a variable name: letters, digits and
// underscores.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// Expand substitutes "$name", "${name}", "${name:-word}" (word when name
// is unset or empty) and "${name:+word}" (word when it is set) in s, as
// dnf does. Unknown variables are left as written.
func (v Vars) Expand(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			expr := s[i+2 : i+2+end]
			if out, ok := v.expandBraced(expr); ok {
				b.WriteString(out)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 3 + end
			continue
		}
		j := i + 1
		for j < len(s) && validName(s[j:j+1]) {
			j++
		}
		if val, ok := v[s[i+1:j]]; ok && j > i+1 {
			b.WriteString(val)
		} else {
			b.WriteString(s[i:j])
			if j == i+1 {
				b.WriteByte(s[j])
				j++
			}
		}
		i = j
	}
	return b.String()
}

// expandBraced expands the inside of "${…}".
func (v Vars) expandBraced(expr string) (string, bool) {
	if name, word, ok := strings.Cut(expr, ":-"); ok && validName(name) {
		if val := v[name]; val != "" {
			return val, true
		}
		return v.Expand(word), true
	}
	if name, word, ok := strings.Cut(expr, ":+"); ok && validName(name) {
		if v[name] != "" {
			return v.Expand(word), true
		}
		return "", true
	}
	val, ok := v[expr]
	return val, ok
}

// BaseArch maps a machine architecture to dnf's base architecture, the
// $basearch of repository URLs.
func BaseArch(arch string) string {
	switch arch {
	case "i386", "i486", "i586", "i686", "athlon", "geode", "pentium3", "pentium4":
		return "i386"
	case "amd64", "x86_64", "ia32e":
		return "x86_64"
	case "arm64", "aarch64":
		return "aarch64"
	case "armv7hl", "armv7hnl", "armv6hl", "armv8hl":
		return "armhfp"
	case "armv7l", "armv6l", "armv5tel", "armv5tejl", "armv8l":
		return "arm"
	case "ppc64le", "ppc64p7", "ppc64", "ppc":
		return arch
	case "s390x", "s390":
		return arch
	case "riscv64":
		return "riscv64"
	}
	return arch
}

// ReleasePackage is an installed package as releasever detection sees
// it: its name, version and provides.
type ReleasePackage struct {
	Name     string
	Version  string
	Provides []rpm.Dep
}

// distroVerPkgs are the provides dnf looks for, in order, to find the
// release package.
var distroVerPkgs = []string{"system-release(releasever)", "system-release", "distribution-release", "redhat-release", "suse-release"}

// DetectReleasever derives $releasever from the installed packages as
// dnf does: the first package providing one of system-release(releasever),
// system-release, distribution-release, redhat-release, suse-release
// gives its version, unless that provide has an exact version of its own
// (Rocky 9.3's rocky-release provides "system-release(releasever) = 9").
// ok is false when no package provides any of them.
func DetectReleasever(pkgs []ReleasePackage) (string, bool) {
	for _, want := range distroVerPkgs {
		for _, p := range pkgs {
			for _, d := range p.Provides {
				if d.Name != want {
					continue
				}
				if d.Flags&rpm.SenseCompare == rpm.SenseEqual && d.Version != "" && p.Name != want {
					return d.Version, true
				}
				return p.Version, true
			}
		}
	}
	return "", false
}

// BaseProductFile is where zypper reads the release of SUSE images.
const BaseProductFile = "etc/products.d/baseproduct"

// ProductReleasever returns zypper's $releasever: the <version> of the
// base product file (etc/products.d/baseproduct, a link to the product's
// .prod file: "15.6" for openSUSE Leap 15.6 and SLE 15 SP6).
func ProductReleasever(data []byte) (string, bool) {
	var x struct {
		Version string `xml:"version"`
	}
	if len(data) > 1<<20 || xml.Unmarshal(data, &x) != nil {
		return "", false
	}
	v := strings.TrimSpace(x.Version)
	return v, v != ""
}
