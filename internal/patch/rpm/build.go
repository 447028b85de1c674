package rpm

import (
	"archive/tar"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/layer"
	"github.com/patchloop/patchloop/internal/rpm"
)

// buildResult is the layer and the scriptlets not run.
type buildResult struct {
	layer   *layer.File
	skipped []patch.SkippedScripts
}

// build downloads the planned packages and writes the patch layer: their
// payloads, whiteouts for files nothing owns any more, %config files as
// rpm treats them, and the rpm database.
func (p *Patcher) build(ctx context.Context, st *imageState, pl *plan, workDir string) (*buildResult, error) {
	log := logctx.From(ctx, p.log)
	if st.dbFormat == formatBDB {
		return nil, fmt.Errorf("/%s: %w; the image needs its rpm database converted (rpmdb --rebuilddb with sqlite) before Patchloop can patch it", st.dbPath, ErrBerkeleyDB)
	}
	sp, err := layer.NewSpool(workDir)
	if err != nil {
		return nil, err
	}
	defer sp.Close()
	pkgs, err := p.fetchAll(ctx, pl.changes, sp)
	if err != nil {
		return nil, err
	}
	replaced := map[*Package]bool{}
	var old []*Package
	for _, n := range pl.changes {
		if n.inst != nil {
			old = append(old, n.inst)
			replaced[n.inst] = true
		}
	}
	for _, n := range pl.removals {
		old = append(old, n.inst)
		replaced[n.inst] = true
	}
	var kept, after []*Package
	for _, in := range st.packages {
		if !replaced[in.pkg] {
			kept = append(kept, in.pkg)
		}
	}
	if err := fileConflicts(kept, pkgs); err != nil {
		return nil, err
	}
	after = slices.Clone(kept)
	for _, fp := range pkgs {
		after = append(after, fp.pkg)
	}
	rems := removals(old, after)

	dirs, files, stats := pathsToLook(st, pkgs, rems)
	log.DebugContext(ctx, "rpm patcher: looking up package paths in the image", "paths", len(dirs)+len(files)+len(stats))
	look, err := layer.LookUp(ctx, st.view, slices.Concat(dirs, files), stats)
	if err != nil {
		return nil, fmt.Errorf("looking up package paths in the image: %w", err)
	}
	lay := layer.NewLayout(look)
	b := layer.NewBuilder()
	b.ModTime = time.Unix(0, 0)
	for _, fp := range pkgs {
		for _, f := range fp.pkg.Files {
			if t := time.Unix(int64(f.MTime), 0); t.After(b.ModTime) {
				b.ModTime = t
			}
		}
	}
	written := map[string]bool{}
	for _, fp := range pkgs {
		if err := p.addPackage(ctx, st, b, lay, look, fp, written); err != nil {
			return nil, fmt.Errorf("package %s: %w", fp.pkg.NEVRA(), err)
		}
	}
	if err := p.removeFiles(ctx, st, b, lay, look, rems, written); err != nil {
		return nil, err
	}
	if err := b.CheckNoEntryUnderSymlink(); err != nil {
		return nil, err
	}
	if err := p.writeDatabase(ctx, st, b, lay, pl, pkgs); err != nil {
		return nil, err
	}
	res := &buildResult{skipped: skipped(pl, pkgs, st)}
	for _, s := range res.skipped {
		log.WarnContext(ctx, "rpm patcher: scriptlets not run", "package", s.Package, "scripts", strings.Join(s.Scripts, ","))
	}
	if res.layer, err = b.WriteFile(ctx, workDir, sp); err != nil {
		return nil, err
	}
	log.DebugContext(ctx, "rpm patcher: layer written", "entries", len(b.Paths()))
	return res, nil
}

// pathsToLook returns what to ask the image: directories the packages
// write into, %config files whose content matters, paths whose own kind
// matters (symlinks, files to remove) and the database's directories.
func pathsToLook(st *imageState, pkgs []*fetched, rems []removal) (dirs, files, stats []string) {
	dirs = append(dirs, layer.Ancestors(st.dbPath)...)
	stats = append(stats, st.dbPath)
	for _, fp := range pkgs {
		for _, e := range fp.entries {
			dirs = append(dirs, layer.Ancestors(e.path)...)
			switch e.file.Mode & rpm.ModeType {
			case rpm.ModeDir:
				dirs = append(dirs, e.path)
			case rpm.ModeSymlink:
				stats = append(stats, e.path)
			case rpm.ModeRegular:
				if e.file.Flags&rpm.FileConfig != 0 {
					files = append(files, e.path)
				}
			}
		}
	}
	for _, r := range rems {
		stats = append(stats, r.path)
		dirs = append(dirs, layer.Ancestors(r.path)...)
		if r.config {
			files = append(files, r.path)
		}
	}
	return dirs, files, stats
}

// addPackage puts one package's payload into the layer: its directories
// first (their metadata wins over MkdirParents' defaults), then its other
// entries, then hard links checked against what the layer holds.
func (p *Patcher) addPackage(ctx context.Context, st *imageState, b *layer.Builder, lay *layer.Layout, look *layer.Lookup, fp *fetched, written map[string]bool) error {
	for _, e := range fp.entries {
		if e.file.Mode&rpm.ModeType != rpm.ModeDir {
			continue
		}
		hdr, err := st.tarHeader(ctx, p, e.file)
		if err != nil {
			return err
		}
		if err := b.PutDir(lay, e.path, hdr); err != nil {
			return err
		}
	}
	pa := &packageAdder{p: p, st: st, b: b, lay: lay, look: look, fp: fp, written: written, oldFiles: map[string]FileInfo{},
		links: hardLinkTargets(fp), linked: map[string]*payloadEntry{}}
	if fp.n.inst != nil {
		pa.oldAlgo = fp.n.inst.DigestAlgo
		for _, f := range fp.n.inst.Files {
			pa.oldFiles[relPath(f.Path)] = f
		}
	}
	for _, e := range fp.entries {
		if e.file.Mode&rpm.ModeType == rpm.ModeDir {
			continue
		}
		if !st.policy.installs(e.file) {
			fp.notInstalled = append(fp.notInstalled, e.index)
			continue
		}
		if err := pa.add(ctx, e); err != nil {
			return err
		}
	}
	pa.fixLinks()
	return nil
}

// packageAdder puts the entries of one package into the layer.
type packageAdder struct {
	p       *Patcher
	st      *imageState
	b       *layer.Builder
	lay     *layer.Layout
	look    *layer.Lookup
	fp      *fetched
	written map[string]bool
	// oldFiles are the installed version's files, by relative path.
	oldFiles map[string]FileInfo
	oldAlgo  uint32
	// links maps the hard links of the payload to the member carrying
	// the content; linked maps the layer paths of hard links put to it.
	links  map[string]string
	linked map[string]*payloadEntry
}

// add puts one non-directory entry, as decide says for %config files.
func (pa *packageAdder) add(ctx context.Context, e *payloadEntry) error {
	log := logctx.From(ctx, pa.p.log)
	b, lay, name := pa.b, pa.lay, pa.fp.pkg.Name
	if err := b.MkdirParents(lay, e.path); err != nil {
		return err
	}
	if e.file.Mode&rpm.ModeType == rpm.ModeSymlink && lay.Stat(e.path).Kind == imagefs.KindDir {
		log.WarnContext(ctx, "rpm patcher: keeping the image's directory where the package has a symlink", "path", "/"+e.path)
		return nil
	}
	rp, err := lay.Real(e.path)
	if err != nil {
		return err
	}
	var old *FileInfo
	if f, ok := pa.oldFiles[e.path]; ok {
		old = &f
	}
	d := decide(configState{newFile: *e.file, newAlgo: pa.fp.pkg.DigestAlgo, old: old, oldAlgo: pa.oldAlgo, cur: pa.look.Files[e.path]})
	switch d.act {
	case actSkip:
		log.InfoContext(ctx, "rpm patcher: keeping the image's configuration file (the package did not change it)", "package", name, "path", "/"+e.path)
		pa.written[rp] = true
		return nil
	case actAltName:
		log.InfoContext(ctx, "rpm patcher: configuration file changed in the image; installing the new one as .rpmnew", "package", name, "path", "/"+e.path)
		pa.written[rp] = true
		rp += ".rpmnew"
	case actSave:
		saveReal, err := lay.Real(d.saveAs)
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "rpm patcher: configuration file changed in the image; saving it and installing the new one", "package", name, "path", "/"+e.path, "saved", "/"+d.saveAs)
		putCopy(b, saveReal, pa.look.Files[e.path])
	}
	if b.Has(rp) {
		log.WarnContext(ctx, "rpm patcher: path shipped by two packages; keeping the first", "path", "/"+e.path, "package", name)
		return nil
	}
	pa.written[rp] = true
	hdr, err := pa.st.tarHeader(ctx, pa.p, e.file)
	if err != nil {
		return err
	}
	le := &layer.Entry{Header: hdr}
	if target, ok := pa.links[e.path]; ok && hdr.Typeflag == tar.TypeReg {
		if le.Header.Linkname, err = lay.Real(target); err != nil {
			return err
		}
		le.Header.Typeflag, le.Header.Size = tar.TypeLink, 0
		pa.linked[rp] = pa.fp.byPath[target]
	} else if hdr.Typeflag == tar.TypeReg {
		if !e.has && e.file.Size > 0 {
			return fmt.Errorf("%s: no content in the payload", e.path)
		}
		le.Spooled, le.Off, le.Len = e.has, e.off, e.len
		le.Header.Size = e.len
	}
	b.Put(rp, le)
	return nil
}

// fixLinks turns a hard link whose target the layer does not hold as a
// regular file (a %config member kept or written as .rpmnew) into a copy
// of the content, so that the layer never links outside itself.
func (pa *packageAdder) fixLinks() {
	for rp, carrier := range pa.linked {
		le := pa.b.Get(rp)
		if t := pa.b.Get(le.Header.Linkname); t != nil && t.Header.Typeflag == tar.TypeReg {
			continue
		}
		le.Header.Typeflag, le.Header.Linkname = tar.TypeReg, ""
		if carrier != nil && carrier.has {
			le.Spooled, le.Off, le.Len, le.Header.Size = true, carrier.off, carrier.len, carrier.len
		}
	}
}

// putCopy puts the image's file cur at p (a user's configuration kept as
// .rpmsave or .rpmorig).
func putCopy(b *layer.Builder, p string, cur imagefs.Node) {
	b.Put(p, &layer.Entry{Header: tar.Header{Typeflag: tar.TypeReg, Mode: int64(cur.Mode.Perm()), Size: int64(len(cur.Content))}, Data: cur.Content})
}

// removeFiles whites out the files nothing owns after the upgrade; a
// %config file the user changed is kept as path.rpmsave first.
func (p *Patcher) removeFiles(ctx context.Context, st *imageState, b *layer.Builder, lay *layer.Layout, look *layer.Lookup, rems []removal, written map[string]bool) error {
	log := logctx.From(ctx, p.log)
	for _, r := range rems {
		n := look.Stats[r.path]
		if n.Kind != imagefs.KindRegular && n.Kind != imagefs.KindSymlink && n.Kind != imagefs.KindOther {
			continue
		}
		if written[n.RealPath] || b.Has(n.RealPath) {
			continue
		}
		if cur := look.Files[r.path]; r.userChanged(cur) {
			save, err := lay.Real(r.path + ".rpmsave")
			if err != nil {
				return err
			}
			log.InfoContext(ctx, "rpm patcher: saving a changed configuration file the new version dropped", "package", r.owner, "path", "/"+r.path, "saved", "/"+r.path+".rpmsave")
			putCopy(b, save, cur)
		}
		b.Whiteout(n.RealPath)
		log.DebugContext(ctx, "rpm patcher: removing a file nothing owns after the upgrade", "package", r.owner, "path", "/"+r.path)
	}
	return nil
}

// tarHeader returns the layer header of a package file: type, mode,
// owner (the names resolved through the image's etc/passwd and
// etc/group, as rpm does; unknown names are root's), mtime, link target,
// device and file capabilities.
func (st *imageState) tarHeader(ctx context.Context, p *Patcher, f *FileInfo) (tar.Header, error) {
	h := tar.Header{Mode: int64(f.Mode & 0o7777), Uname: f.User, Gname: f.Group, ModTime: time.Unix(int64(f.MTime), 0)}
	var ok bool
	if h.Uid, ok = st.users[f.User]; !ok && f.User != "" && f.User != "root" {
		logctx.From(ctx, p.log).WarnContext(ctx, "rpm patcher: file owner not in the image's /etc/passwd; using root", "path", f.Path, "user", f.User)
	}
	if h.Gid, ok = st.groups[f.Group]; !ok && f.Group != "" && f.Group != "root" {
		logctx.From(ctx, p.log).WarnContext(ctx, "rpm patcher: file group not in the image's /etc/group; using root", "path", f.Path, "group", f.Group)
	}
	switch f.Mode & rpm.ModeType {
	case rpm.ModeRegular:
		h.Typeflag, h.Size = tar.TypeReg, f.Size
	case rpm.ModeDir:
		h.Typeflag = tar.TypeDir
	case rpm.ModeSymlink:
		h.Typeflag, h.Linkname = tar.TypeSymlink, f.LinkTo
	case 0o020000:
		h.Typeflag = tar.TypeChar
	case 0o060000:
		h.Typeflag = tar.TypeBlock
	case 0o010000:
		h.Typeflag = tar.TypeFifo
	default:
		return h, fmt.Errorf("%s: file type %o not supported", f.Path, f.Mode&rpm.ModeType)
	}
	if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock {
		h.Devmajor, h.Devminor = int64(f.Rdev>>8), int64(f.Rdev&0xff)
	}
	if f.Caps != "" {
		c, err := encodeCaps(f.Caps)
		if err != nil {
			return h, fmt.Errorf("%s: %w", f.Path, err)
		}
		h.PAXRecords = map[string]string{"SCHILY.xattr." + capXattr: string(c)}
	}
	return h, nil
}

// skipped names, per package, the scriptlets and triggers rpm would have
// run: the new version's, and the old version's %preun and %postun.
func skipped(pl *plan, pkgs []*fetched, st *imageState) []patch.SkippedScripts {
	oldHdr := map[*Package]*rpm.Header{}
	for _, in := range st.packages {
		oldHdr[in.pkg] = in.hdr
	}
	var out []patch.SkippedScripts
	for _, fp := range pkgs {
		names := scriptsOf(fp.file.Header)
		if fp.n.inst != nil {
			for _, s := range scriptsOf(oldHdr[fp.n.inst]) {
				if s == "%preun" || s == "%postun" {
					names = append(names, s+" (old version)")
				}
			}
		}
		if len(names) > 0 {
			out = append(out, patch.SkippedScripts{Package: fp.pkg.Name, Scripts: names})
		}
	}
	for _, n := range pl.removals {
		var names []string
		for _, s := range scriptsOf(oldHdr[n.inst]) {
			if s == "%preun" || s == "%postun" {
				names = append(names, s)
			}
		}
		if len(names) > 0 {
			out = append(out, patch.SkippedScripts{Package: n.inst.Name, Scripts: names})
		}
	}
	return out
}
