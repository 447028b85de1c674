package rpm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmmd"
)

// loadedRepo is one enabled repository with its verified metadata and
// the keys that verify its packages.
type loadedRepo struct {
	repo rpmmd.Repo
	md   *rpmmd.Metadata
	keys *rpm.Keyring
}

// repoSet is what the repositories offer.
type repoSet struct {
	byID map[string]*loadedRepo
	// order lists the repositories as loaded.
	order      []*loadedRepo
	arch       string
	candidates []*Candidate
	// filelists says the complete file lists are loaded.
	filelists bool
	// exclude are the main configuration's exclude= globs.
	exclude []string
}

// ref is how a candidate is downloaded.
type ref struct {
	repo *loadedRepo
	pkg  *rpmmd.Package
}

// loadRepos reads the image's repositories, with $releasever as dnf
// derives it and the mirrors applied, and loads each enabled one.
func (p *Patcher) loadRepos(ctx context.Context, st *imageState) (*repoSet, error) {
	log := logctx.From(ctx, p.log)
	var rel []rpmmd.ReleasePackage
	for _, in := range st.packages {
		rel = append(rel, rpmmd.ReleasePackage{Name: in.pkg.Name, Version: in.pkg.EVR.Version, Provides: in.pkg.Provides})
	}
	releasever, ok := rpmmd.ProductReleasever(st.baseProduct)
	if !ok {
		if releasever, ok = rpmmd.DetectReleasever(rel); !ok {
			releasever = st.versionID
		}
	}
	all, _, err := rpmmd.ImageRepos(st.files, st.arch, releasever)
	if err != nil {
		return nil, patch.Permanent(err)
	}
	main, _ := rpmmd.MainOf(st.files)
	var enabled []rpmmd.Repo
	for _, r := range all {
		if r.Enabled && r.RPMMD() {
			enabled = append(enabled, r)
		}
	}
	if len(enabled) == 0 {
		return nil, patch.Permanent(fmt.Errorf("the image enables no rpm-md repository (in /%s)", strings.Join(rpmmd.DefaultReposDirs, ", /")))
	}
	enabled = rpmmd.Mirror(enabled, p.opts.Mirrors.All, p.opts.Mirrors.ByURL)
	set := &repoSet{byID: map[string]*loadedRepo{}, exclude: main.Exclude, arch: st.arch}
	log.InfoContext(ctx, "rpm patcher: loading repositories", "repositories", len(enabled), "arch", st.arch, "releasever", releasever)
	for _, r := range enabled {
		kr, err := p.keyringOf(ctx, st, r)
		if err != nil {
			return nil, err
		}
		md, err := p.client.Load(ctx, r, kr)
		if err != nil {
			if r.SkipIfUnavailable && !untrusted(err) {
				log.WarnContext(ctx, "rpm patcher: skipping an unavailable repository (skip_if_unavailable)", "repository", r.ID, "err", err)
				continue
			}
			return nil, fmt.Errorf("repository %s (%s): %w", r.ID, r.File, err)
		}
		lr := &loadedRepo{repo: r, md: md, keys: kr}
		set.byID[r.ID] = lr
		set.order = append(set.order, lr)
		if md.Modules != nil {
			st.enableDefaultStreams(md.Modules.Defaults)
		}
	}
	set.index()
	return set, nil
}

// index turns the repositories' packages into candidates.
func (set *repoSet) index() {
	set.candidates = nil
	for _, lr := range set.order {
		r, md := lr.repo, lr.md
		for _, mp := range md.Packages {
			if mp.Arch == "src" || mp.Arch == "nosrc" || r.Excluded(mp.Name) || !archUsable(set.arch, mp.Arch) {
				continue
			}
			set.candidates = append(set.candidates, &Candidate{Package: packageOf(mp), Repo: r.ID, Module: md.Modules.StreamOf(mp),
				Hotfix: r.ModuleHotfixes, Ref: &ref{repo: lr, pkg: mp}})
		}
	}
	set.candidates = byPriority(set.candidates, set.byID)
}

// loadFilelists replaces primary's short file lists with the complete
// ones of every repository that publishes filelists.xml.
func (p *Patcher) loadFilelists(ctx context.Context, set *repoSet) error {
	for _, lr := range set.order {
		err := p.client.LoadFilelists(ctx, lr.md)
		switch {
		case errors.Is(err, rpmmd.ErrNoFilelists):
			logctx.From(ctx, p.log).WarnContext(ctx, "rpm patcher: repository publishes no file lists", "repository", lr.repo.ID)
		case err != nil:
			return fmt.Errorf("repository %s: %w", lr.repo.ID, err)
		}
	}
	set.filelists = true
	set.index()
	return nil
}

// untrusted reports whether a repository error is about trust (which
// skip_if_unavailable never excuses).
func untrusted(err error) bool {
	var se *rpm.SignatureError
	return errors.As(err, &se) || errors.Is(err, rpmmd.ErrChecksum) || errors.Is(err, rpmmd.ErrUnsignedRepomd) ||
		errors.Is(err, rpm.ErrBadSignature) || errors.Is(err, rpm.ErrUntrustedKey)
}

// archUsable reports whether packages of arch install on machine: the
// machine's own, noarch, and the 32-bit x86 ones on x86_64 (multilib).
func archUsable(machine, arch string) bool {
	switch arch {
	case machine, "noarch":
		return true
	case "i386", "i486", "i586", "i686":
		return machine == "x86_64"
	}
	return false
}

// byPriority keeps, for each package name, only the candidates of the
// repositories with the best (lowest) priority offering it, as dnf does.
func byPriority(cands []*Candidate, repos map[string]*loadedRepo) []*Candidate {
	best := map[string]int{}
	prio := func(c *Candidate) int {
		if r := repos[c.Repo]; r != nil && r.repo.Priority != 0 {
			return r.repo.Priority
		}
		return 99
	}
	for _, c := range cands {
		if b, ok := best[c.Name]; !ok || prio(c) < b {
			best[c.Name] = prio(c)
		}
	}
	return slices.DeleteFunc(cands, func(c *Candidate) bool { return prio(c) != best[c.Name] })
}

// keyringOf returns the keys that verify a repository: the Keyring
// option, else the keys imported into the image's rpm database and the
// image's files its gpgkey= names. Remote keys are not fetched. A
// repository that checks signatures with no key at all is an error.
func (p *Patcher) keyringOf(ctx context.Context, st *imageState, r rpmmd.Repo) (*rpm.Keyring, error) {
	if p.opts.Keyring != nil {
		return p.opts.Keyring, nil
	}
	paths, remote, err := r.KeyFiles()
	if err != nil {
		return nil, patch.Permanent(err)
	}
	if len(remote) > 0 {
		logctx.From(ctx, p.log).WarnContext(ctx, "rpm patcher: not fetching remote repository keys; give them with --rpm-keyring", "repository", r.ID, "keys", strings.Join(remote, " "))
	}
	files, err := st.keyFiles(ctx, paths)
	if err != nil {
		return nil, err
	}
	krs := []*rpm.Keyring{st.dbKeys}
	for _, kp := range paths {
		data, ok := files[kp]
		if !ok {
			logctx.From(ctx, p.log).WarnContext(ctx, "rpm patcher: repository key not in the image", "repository", r.ID, "key", "/"+kp)
			continue
		}
		kr, err := rpm.ParseKeyring("/"+kp, data)
		if err != nil {
			return nil, patch.Permanent(fmt.Errorf("repository %s: key /%s: %w", r.ID, kp, err))
		}
		krs = append(krs, kr)
	}
	kr := rpm.MergeKeyrings(krs...)
	if kr.Len() == 0 && (r.GPGCheck || r.RepoGPGCheck) {
		return nil, patch.Permanent(fmt.Errorf("repository %s (%s) checks signatures, but the image trusts no key for it (no gpgkey= file in the image, no key imported into the rpm database); give the distribution's key with --rpm-keyring", r.ID, r.File))
	}
	return kr, nil
}

// packageOf turns a primary.xml package into a candidate's package.
func packageOf(mp *rpmmd.Package) *Package {
	p := &Package{
		Name: mp.Name, Arch: mp.Arch, EVR: EVR{Epoch: normEpoch(mp.Epoch), Version: mp.Version, Release: mp.Release},
		SourceRPM: mp.SourceRPM, Provides: mp.Provides, Requires: mp.Requires, Conflicts: mp.Conflicts, Obsoletes: mp.Obsoletes,
	}
	for _, f := range mp.Files {
		fi := FileInfo{Path: f.Path, Mode: rpm.ModeRegular}
		switch f.Type {
		case "dir":
			fi.Mode = rpm.ModeDir
		case "ghost":
			fi.Flags = rpm.FileGhost
		}
		p.Files = append(p.Files, fi)
	}
	return p
}

// normEpoch drops a zero epoch, which rpm prints as none.
func normEpoch(e string) string {
	if e == "0" {
		return ""
	}
	return e
}
