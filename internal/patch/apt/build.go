package apt

import (
	"archive/tar"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/layer"
)

// buildResult is the layer and what the build learnt.
type buildResult struct {
	layer   *layer.File
	skipped []patch.SkippedScripts
}

// build downloads the planned packages and writes the patch layer.
func (p *Patcher) build(ctx context.Context, st *imageState, client *archive.Client, changes []*pkgState, workDir string) (*buildResult, error) {
	sp, err := layer.NewSpool(workDir)
	if err != nil {
		return nil, err
	}
	defer sp.Close()
	pkgs, err := p.fetchPackages(ctx, client, changes, sp)
	if err != nil {
		return nil, err
	}
	info, err := st.infoFiles(ctx, changes)
	if err != nil {
		return nil, err
	}
	owned := info.ownedPaths(changes)

	// What the image holds where the packages go.
	var dirs, confs, stats []string
	removals := map[string][]string{} // package → old paths to remove
	for _, dp := range pkgs {
		for _, e := range dp.entries {
			dirs = append(dirs, layer.Ancestors(e.Path)...)
			switch e.Type {
			case deb.TypeDir:
				dirs = append(dirs, e.Path)
			case deb.TypeSymlink:
				stats = append(stats, e.Path)
			}
		}
		for _, c := range dp.info.Conffiles {
			confs = append(confs, c.Path)
		}
		if old := dp.state.orig; old != nil {
			for _, c := range old.Conffiles {
				confs = append(confs, c.Path)
			}
			rm := removalCandidates(dp, info.list(old), owned)
			removals[dp.state.name] = rm
			stats = append(stats, rm...)
			for _, r := range rm {
				dirs = append(dirs, layer.Ancestors(r)...)
			}
		}
	}
	look, err := layer.LookUp(ctx, st.view, slices.Concat(dirs, confs), stats)
	if err != nil {
		return nil, fmt.Errorf("looking up package paths in the image: %w", err)
	}
	lay := layer.NewLayout(look)

	b := layer.NewBuilder()
	b.ModTime = time.Unix(0, 0)
	for _, dp := range pkgs {
		for _, e := range dp.entries {
			if e.ModTime.After(b.ModTime) {
				b.ModTime = e.ModTime
			}
		}
	}
	res := &buildResult{}
	newReal := map[string]bool{}
	for _, dp := range pkgs {
		conffiles, err := p.addPackage(ctx, b, lay, look.Files, dp, newReal)
		if err != nil {
			return nil, fmt.Errorf("package %s %s: %w", dp.state.name, dp.state.version, err)
		}
		dp.conffiles = conffiles
	}
	res.skipped = skippedScripts(pkgs)
	for _, s := range res.skipped {
		logctx.From(ctx, p.log).WarnContext(ctx, "apt patcher: maintainer scripts not run", "package", s.Package, "scripts", strings.Join(s.Scripts, ","))
	}
	for _, dp := range pkgs {
		for _, old := range removals[dp.state.name] {
			n := look.Stats[old]
			if n.Kind != imagefs.KindRegular && n.Kind != imagefs.KindSymlink && n.Kind != imagefs.KindOther {
				continue
			}
			if newReal[n.RealPath] || b.Has(n.RealPath) {
				continue
			}
			b.Whiteout(n.RealPath)
			logctx.From(ctx, p.log).DebugContext(ctx, "apt patcher: removing file the new version dropped", "package", dp.state.name, "path", "/"+old)
		}
	}
	if err := b.CheckNoEntryUnderSymlink(); err != nil {
		return nil, err
	}
	if err := p.writeDatabase(st, b, pkgs, info); err != nil {
		return nil, err
	}
	layer, err := b.WriteFile(ctx, workDir, sp)
	if err != nil {
		return nil, err
	}
	res.layer = layer
	return res, nil
}

// addPackage adds one package's files to the layer and returns its
// Conffiles field for the database.
func (p *Patcher) addPackage(ctx context.Context, b *layer.Builder, lay *layer.Layout, current map[string]imagefs.Node, dp *debPackage, newReal map[string]bool) ([]statusConffile, error) {
	// Directories first, so that the package's own metadata wins over the
	// defaults given to parents it does not list.
	for _, e := range dp.entries {
		if e.Type != deb.TypeDir {
			continue
		}
		if err := b.PutDir(lay, e.Path, headerOf(e.Entry, "")); err != nil {
			return nil, err
		}
	}
	confNew := map[string]deb.Conffile{}
	for _, c := range dp.info.Conffiles {
		confNew[c.Path] = c
	}
	confOld := map[string]statusConffile{}
	if dp.state.orig != nil {
		for _, c := range dp.state.orig.Conffiles {
			confOld[c.Path] = c
		}
	}
	var field []statusConffile
	for _, e := range dp.entries {
		if e.Type == deb.TypeDir {
			continue
		}
		if err := b.MkdirParents(lay, e.Path); err != nil {
			return nil, err
		}
		if e.Type == deb.TypeSymlink && lay.Stat(e.Path).Kind == imagefs.KindDir {
			logctx.From(ctx, p.log).WarnContext(ctx, "apt patcher: keeping the image's directory where the package has a symlink", "path", "/"+e.Path, "target", e.Linkname)
			continue
		}
		rp, err := lay.Real(e.Path)
		if err != nil {
			return nil, err
		}
		link := ""
		if e.Type == deb.TypeHardlink {
			if link, err = lay.Real(e.Linkname); err != nil {
				return nil, err
			}
		}
		if c, ok := confNew[e.Path]; ok && e.Type == deb.TypeRegular && !c.RemoveOnUpgrade {
			old, was := confOld[e.Path]
			cur, exists := current[e.Path]
			exists = exists && cur.Kind == imagefs.KindRegular
			action := decideConffile(old.MD5, was, cur.Content, exists, e.md5)
			field = append(field, statusConffile{Path: e.Path, MD5: e.md5})
			if action != installConffile {
				logctx.From(ctx, p.log).InfoContext(ctx, "apt patcher: conffile changed in the image", "package", dp.state.name, "path", "/"+e.Path, "action", action.String())
			}
			switch action {
			case keepConffile:
				newReal[rp] = true
				continue
			case keepWithDist:
				newReal[rp] = true
				rp += ".dpkg-dist"
			}
		}
		if b.Has(rp) {
			logctx.From(ctx, p.log).WarnContext(ctx, "apt patcher: path shipped by two packages; keeping the first", "path", "/"+e.Path, "package", dp.state.name)
			continue
		}
		newReal[rp] = true
		le := &layer.Entry{Header: headerOf(e.Entry, link)}
		if e.Type == deb.TypeRegular {
			le.Spooled, le.Off, le.Len = true, e.off, e.size
		}
		b.Put(rp, le)
	}
	// Conffiles the new version no longer ships stay on disk, as dpkg
	// leaves them, and stay listed as obsolete.
	for _, c := range dp.state.origConffiles() {
		if _, ok := confNew[c.Path]; ok {
			continue
		}
		if !slices.Contains(c.Flags, "obsolete") {
			c.Flags = append(slices.Clone(c.Flags), "obsolete")
		}
		field = append(field, c)
	}
	return field, nil
}

// skippedScripts lists the maintainer scripts of the new packages, none of
// which is run.
func skippedScripts(pkgs []*debPackage) []patch.SkippedScripts {
	var out []patch.SkippedScripts
	for _, dp := range pkgs {
		if len(dp.info.Scripts) > 0 {
			out = append(out, patch.SkippedScripts{Package: dp.state.name, Scripts: slices.Clone(dp.info.Scripts)})
		}
	}
	return out
}

// origConffiles returns the Conffiles of the installed version, if any.
func (ps *pkgState) origConffiles() []statusConffile {
	if ps.orig == nil {
		return nil
	}
	return ps.orig.Conffiles
}

// headerOf converts a package entry to a layer header; link is the
// literal path of a hard link's target.
func headerOf(e deb.Entry, link string) tar.Header {
	h := tar.Header{
		Mode:     deb.TarMode(e.Mode),
		Uid:      e.UID,
		Gid:      e.GID,
		Uname:    e.Uname,
		Gname:    e.Gname,
		ModTime:  e.ModTime,
		Devmajor: e.DevMajor,
		Devminor: e.DevMin,
	}
	switch e.Type {
	case deb.TypeDir:
		h.Typeflag = tar.TypeDir
	case deb.TypeSymlink:
		h.Typeflag, h.Linkname = tar.TypeSymlink, e.Linkname
	case deb.TypeHardlink:
		h.Typeflag, h.Linkname = tar.TypeLink, link
	case deb.TypeCharDevice:
		h.Typeflag = tar.TypeChar
	case deb.TypeBlockDevice:
		h.Typeflag = tar.TypeBlock
	case deb.TypeFIFO:
		h.Typeflag = tar.TypeFifo
	default:
		h.Typeflag, h.Size = tar.TypeReg, e.Size
	}
	return h
}

// removalCandidates returns the paths the installed version listed that
// the new one does not ship and that may be files: not directories of the
// old list, not conffiles (dpkg leaves obsolete ones), not owned by
// another installed package.
func removalCandidates(dp *debPackage, oldList []string, owned map[string]bool) []string {
	ship := map[string]bool{}
	for _, e := range dp.entries {
		ship[e.Path] = true
	}
	dirs := map[string]bool{}
	for _, p := range oldList {
		for _, a := range layer.Ancestors(p) {
			dirs[a] = true
		}
	}
	conf := map[string]bool{}
	for _, c := range dp.state.orig.Conffiles {
		conf[c.Path] = true
	}
	var out []string
	for _, p := range oldList {
		if ship[p] || dirs[p] || conf[p] || owned[p] || owned[layer.UsrAlias(p)] {
			continue
		}
		out = append(out, p)
	}
	return out
}

// pathOfInfo returns the database path of an info file.
func pathOfInfo(name string) string { return path.Join(infoDir, name) }
