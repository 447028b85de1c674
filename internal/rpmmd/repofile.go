package rpmmd

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Repo is one repository section of a .repo file, its values with
// variables substituted.
type Repo struct {
	// ID is the section name ("baseos").
	ID string
	// Name is the human name ("Rocky Linux 9 - BaseOS").
	Name string
	// File is the image path of the file that defines it
	// ("etc/yum.repos.d/rocky.repo").
	File string
	// BaseURLs are the repository roots (the directories holding
	// repodata/), tried in order.
	BaseURLs []string
	// Mirrorlist is a URL listing base URLs, one a line (or a metalink
	// document, as dnf accepts there too).
	Mirrorlist string
	// Metalink is a URL of a metalink document listing repomd.xml URLs
	// and repomd.xml's checksums.
	Metalink string
	// Enabled says whether dnf uses the repository.
	Enabled bool
	// GPGCheck asks for each package's header signature to be verified.
	GPGCheck bool
	// RepoGPGCheck asks for repomd.xml's detached signature to be verified.
	RepoGPGCheck bool
	// GPGKeys are the key URLs as written (file:///etc/pki/rpm-gpg/…,
	// https://…).
	GPGKeys []string
	// Exclude are the package name globs dnf ignores in this repository
	// (exclude= and excludepkgs=, plus the main section's).
	Exclude []string
	// IncludePkgs, when not empty, are the only package globs dnf takes
	// from this repository.
	IncludePkgs []string
	// ModuleHotfixes lets dnf use the repository's packages despite
	// module filtering.
	ModuleHotfixes bool
	// SkipIfUnavailable lets dnf go on without the repository when it
	// cannot be reached.
	SkipIfUnavailable bool
	// Priority orders repositories (lower wins; default 99).
	Priority int
	// Cost breaks ties between repositories offering the same package
	// (lower wins; default 1000).
	Cost int
	// Type is the repository type as written ("rpm-md", "yum", or "" for
	// the default rpm-md).
	Type string
}

// Main holds the defaults the main section of dnf.conf, yum.conf or
// tdnf.conf gives every repository.
type Main struct {
	// GPGCheck is the default gpgcheck. Nil means not set: dnf's own
	// default is off, but every distribution's dnf.conf turns it on, and
	// this package reads a missing setting as on so that nothing unsigned
	// passes by accident.
	GPGCheck *bool
	// RepoGPGCheck is the default repo_gpgcheck.
	RepoGPGCheck *bool
	// SkipIfUnavailable is the default skip_if_unavailable.
	SkipIfUnavailable *bool
	// Exclude are package globs excluded from every repository.
	Exclude []string
	// ReposDirs are the reposdir= directories, image paths without the
	// leading slash; empty means the defaults.
	ReposDirs []string
}

// section is one [name] of an INI file: its keys in order, lower-cased.
type section struct {
	name string
	line int
	keys map[string]string
}

// parseINI reads dnf's INI dialect: "[section]" headers, "key=value"
// lines, "#" and ";" comment lines, and continuation lines (starting
// with white space) that extend the previous value, as multi-line
// baseurl and gpgkey lists are written. file is used in errors.
func parseINI(file string, data []byte) ([]section, error) {
	var (
		out     []section
		lastKey string
	)
	for n, raw := range strings.Split(string(data), "\n") {
		raw = strings.TrimRight(raw, "\r")
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			lastKey = ""
			continue
		}
		if raw[0] == ' ' || raw[0] == '\t' {
			if lastKey != "" && len(out) > 0 {
				s := &out[len(out)-1]
				s.keys[lastKey] += "\n" + line
				continue
			}
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 2 {
				return nil, fmt.Errorf("%s:%d: bad section header %q", file, n+1, line)
			}
			out = append(out, section{name: strings.TrimSpace(line[1:end]), line: n + 1, keys: map[string]string{}})
			lastKey = ""
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want key=value, got %q", file, n+1, line)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s:%d: %q before any [section]", file, n+1, line)
		}
		lastKey = strings.ToLower(strings.TrimSpace(k))
		out[len(out)-1].keys[lastKey] = strings.TrimSpace(v)
	}
	return out, nil
}

// parseBool reads dnf's booleans.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "yes", "true", "on", "enabled":
		return true, true
	case "0", "no", "false", "off", "disabled":
		return false, true
	}
	return false, false
}

// splitList splits a list value at white space and commas.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// ParseMain reads the [main] section of dnf.conf, yum.conf or tdnf.conf.
// A file without one gives the zero Main.
func ParseMain(file string, data []byte) (Main, error) {
	secs, err := parseINI(file, data)
	if err != nil {
		return Main{}, err
	}
	var m Main
	for _, s := range secs {
		if s.name != "main" {
			continue
		}
		for k, v := range s.keys {
			switch k {
			case "gpgcheck", "repo_gpgcheck", "skip_if_unavailable":
				b, ok := parseBool(v)
				if !ok {
					return Main{}, fmt.Errorf("%s [main] %s: %q is not a boolean", file, k, v)
				}
				switch k {
				case "gpgcheck":
					m.GPGCheck = &b
				case "repo_gpgcheck":
					m.RepoGPGCheck = &b
				default:
					m.SkipIfUnavailable = &b
				}
			case "exclude", "excludepkgs":
				m.Exclude = append(m.Exclude, splitList(v)...)
			case "reposdir", "repodir": // repodir is tdnf's name.
				for _, d := range splitList(v) {
					if !path.IsAbs(d) {
						return Main{}, fmt.Errorf("%s [main] reposdir: %q is not an absolute path", file, d)
					}
					m.ReposDirs = append(m.ReposDirs, strings.TrimPrefix(path.Clean(d), "/"))
				}
			}
		}
	}
	return m, nil
}

// ParseRepoFile reads the repository sections of a .repo file (file is
// its image path, for Repo.File and errors), substituting vars in every
// value. A [main] section is skipped. Values dnf would refuse are errors
// naming the file, section and key.
func ParseRepoFile(file string, data []byte, vars Vars, main Main) ([]Repo, error) {
	secs, err := parseINI(file, data)
	if err != nil {
		return nil, err
	}
	var out []Repo
	for _, s := range secs {
		if s.name == "main" {
			continue
		}
		r, err := repoOf(file, s, vars, main)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// repoOf builds a Repo from a section.
func repoOf(file string, s section, vars Vars, main Main) (Repo, error) {
	r := Repo{ID: vars.Expand(s.name), File: file, Enabled: true, GPGCheck: true, Priority: 99, Cost: 1000}
	if main.GPGCheck != nil {
		r.GPGCheck = *main.GPGCheck
	}
	if main.RepoGPGCheck != nil {
		r.RepoGPGCheck = *main.RepoGPGCheck
	}
	if main.SkipIfUnavailable != nil {
		r.SkipIfUnavailable = *main.SkipIfUnavailable
	}
	r.Exclude = slices.Clone(main.Exclude)
	where := func(k string) string { return fmt.Sprintf("%s [%s] %s", file, s.name, k) }
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := vars.Expand(s.keys[k])
		switch k {
		case "name":
			r.Name = v
		case "baseurl":
			r.BaseURLs = splitList(v)
		case "mirrorlist":
			r.Mirrorlist = strings.TrimSpace(v)
		case "metalink":
			r.Metalink = strings.TrimSpace(v)
		case "gpgkey":
			r.GPGKeys = splitList(v)
		case "exclude", "excludepkgs":
			r.Exclude = append(r.Exclude, splitList(v)...)
		case "includepkgs":
			r.IncludePkgs = append(r.IncludePkgs, splitList(v)...)
		case "type":
			r.Type = strings.TrimSpace(v)
		case "enabled", "gpgcheck", "repo_gpgcheck", "module_hotfixes", "skip_if_unavailable", "pkg_gpgcheck":
			b, ok := parseBool(v)
			if !ok {
				return Repo{}, fmt.Errorf("%s: %q is not a boolean", where(k), v)
			}
			switch k {
			case "enabled":
				r.Enabled = b
			case "gpgcheck", "pkg_gpgcheck": // pkg_gpgcheck is zypper's name.
				r.GPGCheck = b
			case "repo_gpgcheck":
				r.RepoGPGCheck = b
			case "module_hotfixes":
				r.ModuleHotfixes = b
			default:
				r.SkipIfUnavailable = b
			}
		case "priority", "cost":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return Repo{}, fmt.Errorf("%s: %q is not a number", where(k), v)
			}
			if k == "priority" {
				r.Priority = n
			} else {
				r.Cost = n
			}
		}
	}
	// zypper appends path= (default "/") to each baseurl.
	if p := strings.Trim(vars.Expand(s.keys["path"]), "/ "); p != "" {
		for i, b := range r.BaseURLs {
			r.BaseURLs[i] = strings.TrimSuffix(b, "/") + "/" + p
		}
	}
	for i, u := range slices.Concat(r.BaseURLs, []string{r.Mirrorlist, r.Metalink}) {
		k := "baseurl"
		if i == len(r.BaseURLs) {
			k = "mirrorlist"
		} else if i > len(r.BaseURLs) {
			k = "metalink"
		}
		if err := checkRepoURL(u); err != nil {
			return Repo{}, fmt.Errorf("%s: %q (after substituting variables): %w", where(k), u, err)
		}
	}
	if r.Enabled && len(r.BaseURLs) == 0 && r.Mirrorlist == "" && r.Metalink == "" {
		return Repo{}, fmt.Errorf("%s [%s]: no baseurl, mirrorlist or metalink; set one or enabled=0", file, s.name)
	}
	return r, nil
}

// RPMMD reports whether the repository is an rpm-md repository (the only
// type dnf, tdnf and this package read; zypper also knows yast2 and
// plain directories).
func (r Repo) RPMMD() bool {
	switch strings.ToLower(r.Type) {
	case "", "rpm-md", "rpm", "yum", "repomd":
		return true
	}
	return false
}

// KeyFiles splits the repository's gpgkey URLs into image paths (from
// file:// URLs, cleaned, relative to the image root: they are read
// inside the image, never on the host) and the remote URLs dnf would
// download (which this package does not trust: give such keys with
// --rpm-keyring). A file URL with a host is an error.
func (r Repo) KeyFiles() (paths, remote []string, err error) {
	for _, k := range r.GPGKeys {
		p, isFile := strings.CutPrefix(k, "file://")
		if !isFile && !strings.HasPrefix(k, "/") {
			remote = append(remote, k)
			continue
		}
		if !strings.HasPrefix(p, "/") {
			return nil, nil, fmt.Errorf("%s [%s] gpgkey %q: want file:///absolute/path", r.File, r.ID, k)
		}
		p = strings.TrimPrefix(path.Clean(p), "/")
		if p == "" {
			return nil, nil, fmt.Errorf("%s [%s] gpgkey %q: not a file", r.File, r.ID, k)
		}
		paths = append(paths, p)
	}
	return paths, remote, nil
}

// Excluded reports whether the repository hides the package name: it
// matches an exclude glob, or includepkgs is set and it matches none.
// Globs are shell patterns (path.Match). ExcludedPackage also matches
// the version forms dnf matches.
func (r Repo) Excluded(name string) bool {
	return r.hides([]string{name})
}

// ExcludedPackage reports whether the repository hides the package, as
// dnf matches exclude= and includepkgs= globs: against the name, and
// name.arch, name-version, name-version-release, name-version-release.arch,
// name-epoch:version-release.arch and epoch:name-version-release.arch.
func (r Repo) ExcludedPackage(p *Package) bool {
	return r.hides(MatchForms(p))
}

// MatchForms returns the forms of a package dnf matches package globs
// against.
func MatchForms(p *Package) []string {
	e := p.Epoch
	if e == "" {
		e = "0"
	}
	vr := p.Version + "-" + p.Release
	return []string{p.Name, p.Name + "." + p.Arch, p.Name + "-" + p.Version, p.Name + "-" + vr, p.Name + "-" + vr + "." + p.Arch,
		p.Name + "-" + e + ":" + vr + "." + p.Arch, e + ":" + p.Name + "-" + vr + "." + p.Arch}
}

// hides applies the globs to the forms.
func (r Repo) hides(forms []string) bool {
	match := func(globs []string) bool {
		for _, g := range globs {
			for _, f := range forms {
				if ok, _ := path.Match(g, f); ok {
					return true
				}
			}
		}
		return false
	}
	if match(r.Exclude) {
		return true
	}
	return len(r.IncludePkgs) > 0 && !match(r.IncludePkgs)
}

// checkRepoURL refuses a repository URL with control characters or a
// "." or ".." path segment (written so, percent-encoded, or brought in by
// a variable such as a $releasever derived from the image's packages):
// such a URL leaves the directory the repository file names, and with
// --rpm-mirror the mirror's.
func checkRepoURL(s string) error {
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return errors.New("control character in the URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." || strings.ContainsAny(seg, "\\") {
			return fmt.Errorf("path segment %q: the URL must not climb out of its directory", seg)
		}
	}
	return nil
}
