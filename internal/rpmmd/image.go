package rpmmd

import (
	"path"
	"slices"
	"strings"
)

// Image files and globs that configure an image's repositories; the
// caller resolves them inside the image and hands their content to
// ImageRepos.
var (
	// MainFiles are the package managers' main configuration files, in
	// the order their [main] sections are looked for: dnf, yum, tdnf.
	MainFiles = []string{"etc/dnf/dnf.conf", "etc/yum.conf", "etc/tdnf/tdnf.conf"}
	// DefaultReposDirs are the directories of .repo files when the main
	// configuration names none: dnf's, yum's, tdnf's (Azure Linux,
	// Photon) and microdnf's, dnf5's additional ones, and zypper's.
	DefaultReposDirs = []string{"etc/yum.repos.d", "etc/distro.repos.d", "usr/share/dnf5/repos.d", "etc/zypp/repos.d"}
)

// ConfigGlobs returns the globs of repository and variable files to
// resolve, given the main configuration (ParseMain of the first of
// MainFiles that exists; the zero Main when none does).
func ConfigGlobs(m Main) []string {
	dirs := m.ReposDirs
	if len(dirs) == 0 {
		dirs = DefaultReposDirs
	}
	var out []string
	for _, d := range dirs {
		out = append(out, d+"/*.repo")
	}
	for _, d := range VarDirs {
		out = append(out, d+"/*")
	}
	return out
}

// MainOf parses the main configuration of an image from its files (image
// path to content): the first of MainFiles present.
func MainOf(files map[string][]byte) (Main, error) {
	for _, f := range MainFiles {
		if data, ok := files[f]; ok {
			return ParseMain(f, data)
		}
	}
	return Main{}, nil
}

// ImageRepos reads the repositories of an image from its files (image
// path to content: MainFiles and what ConfigGlobs matched), with the
// built-in variables of arch and releasever overridden by the image's
// variable files, as dnf does. Repositories come sorted by file and
// section order; disabled ones and those of other types are included
// (check Enabled and RPMMD). A repository ID defined twice keeps its
// first definition, as dnf does (with a warning there).
func ImageRepos(files map[string][]byte, arch, releasever string) ([]Repo, Vars, error) {
	m, err := MainOf(files)
	if err != nil {
		return nil, nil, err
	}
	vars := NewVars(arch, releasever)
	var names []string
	for p := range files {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		if slices.Contains(VarDirs, path.Dir(p)) {
			vars.AddFile(p, files[p])
		}
	}
	dirs := m.ReposDirs
	if len(dirs) == 0 {
		dirs = DefaultReposDirs
	}
	var repos []Repo
	seen := map[string]string{}
	// The main file may define repositories too (dnf and yum read them
	// first).
	for _, f := range MainFiles {
		if data, ok := files[f]; ok {
			rs, err := ParseRepoFile(f, data, vars, m)
			if err != nil {
				return nil, nil, err
			}
			for _, r := range rs {
				seen[r.ID] = f
				repos = append(repos, r)
			}
			break
		}
	}
	for _, p := range names {
		if !strings.HasSuffix(p, ".repo") || !slices.Contains(dirs, path.Dir(p)) {
			continue
		}
		rs, err := ParseRepoFile(p, files[p], vars, m)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rs {
			if _, ok := seen[r.ID]; ok {
				continue
			}
			seen[r.ID] = p
			repos = append(repos, r)
		}
	}
	return repos, vars, nil
}
