package apk

import (
	"archive/tar"
	"context"
	"crypto/sha1" //nolint:gosec // apk's file checksums are SHA-1.
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/layer"
)

// fetched is one downloaded, verified package and its data entries.
type fetched struct {
	n       *node
	file    *apk.File
	entries []*dataEntry
	// paths are the paths of its non-directory entries.
	paths map[string]*dataEntry
	// kept are protected files left as they are, the new one beside them.
	kept map[string]bool
}

// dataEntry is one entry of a package's data, its content spooled.
type dataEntry struct {
	hdr      tar.Header
	off, len int64
	sum      apk.Checksum
}

// fetchAll downloads the planned packages and spools their contents.
func (p *Patcher) fetchAll(ctx context.Context, changes []*node, sp *layer.Spool) ([]*fetched, error) {
	var out []*fetched
	for _, n := range changes {
		f, cl, err := p.client.Fetch(ctx, *n.cand)
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", n.cand.Package, err)
		}
		fp, err := readPackage(n, f, sp)
		_ = cl.Close()
		if err != nil {
			return nil, fmt.Errorf("package %s (%s): %w", n.cand.Package, n.cand.URL(), err)
		}
		out = append(out, fp)
	}
	return out, nil
}

// readPackage reads a package's data entries into the spool.
func readPackage(n *node, f *apk.File, sp *layer.Spool) (*fetched, error) {
	if f.Info.Name != n.cand.Name || f.Info.Version != n.cand.Version {
		return nil, fmt.Errorf(".PKGINFO names %s-%s, the index %s", f.Info.Name, f.Info.Version, n.cand.Package)
	}
	d, err := f.Data()
	if err != nil {
		return nil, err
	}
	defer d.Close()
	fp := &fetched{n: n, file: f, paths: map[string]*dataEntry{}, kept: map[string]bool{}}
	for {
		h, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		e := &dataEntry{hdr: headerOf(h)}
		switch h.Typeflag {
		case tar.TypeReg:
			sum := sha1.New()
			if e.off, e.len, _, err = sp.Add(io.TeeReader(d, sum)); err != nil {
				return nil, fmt.Errorf("%s: %w", h.Name, err)
			}
			e.sum = apk.ChecksumSHA1(sum.Sum(nil))
		case tar.TypeSymlink:
			s := sha1.Sum([]byte(h.Linkname))
			e.sum = apk.ChecksumSHA1(s[:])
		case tar.TypeLink:
			target, ok := fp.paths[h.Linkname]
			if !ok {
				return nil, fmt.Errorf("hard link %s: target %s is not earlier in the package", h.Name, h.Linkname)
			}
			e.sum = target.sum
		}
		fp.entries = append(fp.entries, e)
		if h.Typeflag != tar.TypeDir {
			fp.paths[h.Name] = e
		}
	}
	return fp, nil
}

// headerOf keeps what the layer needs of a data header: type, mode,
// owner, times, link and device, and extended attributes (the only PAX
// records kept).
func headerOf(h *tar.Header) tar.Header {
	out := tar.Header{
		Name: h.Name, Typeflag: h.Typeflag, Mode: h.Mode & 0o7777, Uid: h.Uid, Gid: h.Gid, Uname: h.Uname, Gname: h.Gname,
		ModTime: h.ModTime, Linkname: h.Linkname, Devmajor: h.Devmajor, Devminor: h.Devminor, Size: h.Size,
	}
	for k, v := range h.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if out.PAXRecords == nil {
				out.PAXRecords = map[string]string{}
			}
			out.PAXRecords[k] = v
		}
	}
	return out
}

// buildResult is the layer and the scripts not run.
type buildResult struct {
	layer   *layer.File
	skipped []patch.SkippedScripts
}

// build downloads the planned packages and writes the patch layer.
func (p *Patcher) build(ctx context.Context, st *imageState, changes []*node, workDir string) (*buildResult, error) {
	sp, err := layer.NewSpool(workDir)
	if err != nil {
		return nil, err
	}
	defer sp.Close()
	pkgs, err := p.fetchAll(ctx, changes, sp)
	if err != nil {
		return nil, err
	}
	db := cloneInstalled(st.db)
	if err := takeOwnership(db, pkgs); err != nil {
		return nil, err
	}
	owned := ownedPaths(db, pkgs)

	dirs, files, stats, removals := pathsToLook(st, pkgs, owned)
	look, err := layer.LookUp(ctx, st.view, slices.Concat(dirs, files), stats)
	if err != nil {
		return nil, fmt.Errorf("looking up package paths in the image: %w", err)
	}
	lay := layer.NewLayout(look)

	b := layer.NewBuilder()
	b.ModTime = time.Unix(0, 0)
	for _, fp := range pkgs {
		for _, e := range fp.entries {
			if e.hdr.ModTime.After(b.ModTime) {
				b.ModTime = e.hdr.ModTime
			}
		}
	}
	newReal := map[string]bool{}
	for _, fp := range pkgs {
		if err := p.addPackage(ctx, st, b, lay, look, fp, newReal); err != nil {
			return nil, fmt.Errorf("package %s: %w", fp.n.cand.Package, err)
		}
	}
	p.removeDropped(ctx, st, b, look, pkgs, removals, newReal)
	if err := b.CheckNoEntryUnderSymlink(); err != nil {
		return nil, err
	}
	if err := writeDatabase(st, b, lay, db, pkgs); err != nil {
		return nil, err
	}
	res := &buildResult{skipped: skippedScripts(pkgs)}
	for _, s := range res.skipped {
		logctx.From(ctx, p.log).WarnContext(ctx, "apk patcher: install scripts not run", "package", s.Package, "scripts", strings.Join(s.Scripts, ","))
	}
	if res.layer, err = b.WriteFile(ctx, workDir, sp); err != nil {
		return nil, err
	}
	return res, nil
}

// pathsToLook returns what to ask the image about the packages' paths:
// directories they write into, protected files whose content matters,
// paths whose kind matters (symlinks, files to remove), and per upgraded
// package the old files its new version drops.
func pathsToLook(st *imageState, pkgs []*fetched, owned map[string]bool) (dirs, files, stats []string, removals map[string][]string) {
	dbPaths := []string{apk.InstalledFile, scriptsFile, triggersFile}
	removals = map[string][]string{}
	for _, p := range dbPaths {
		dirs = append(dirs, layer.Ancestors(p)...)
	}
	for _, fp := range pkgs {
		for _, e := range fp.entries {
			dirs = append(dirs, layer.Ancestors(e.hdr.Name)...)
			switch e.hdr.Typeflag {
			case tar.TypeDir:
				dirs = append(dirs, e.hdr.Name)
			case tar.TypeSymlink:
				stats = append(stats, e.hdr.Name)
			case tar.TypeReg:
				if st.isProtected(e.hdr.Name) {
					files = append(files, e.hdr.Name)
				}
			}
		}
		if fp.n.inst != nil {
			for old := range fp.n.inst.Files() {
				if _, ships := fp.paths[old]; ships || owned[old] {
					continue
				}
				removals[fp.n.name] = append(removals[fp.n.name], old)
				stats = append(stats, old)
				dirs = append(dirs, layer.Ancestors(old)...)
				if st.isProtected(old) {
					files = append(files, old)
				}
			}
			slices.Sort(removals[fp.n.name])
		}
	}
	return dirs, files, stats, removals
}

// removeDropped whites out the files the upgraded packages' old versions
// had and the new ones do not ship, keeping protected files the user
// changed.
func (p *Patcher) removeDropped(ctx context.Context, st *imageState, b *layer.Builder, look *layer.Lookup, pkgs []*fetched, removals map[string][]string, newReal map[string]bool) {
	for _, fp := range pkgs {
		for _, old := range removals[fp.n.name] {
			n := look.Stats[old]
			if n.Kind != imagefs.KindRegular && n.Kind != imagefs.KindSymlink && n.Kind != imagefs.KindOther {
				continue
			}
			if newReal[n.RealPath] || b.Has(n.RealPath) {
				continue
			}
			if st.isProtected(old) && userChanged(look.Files[old], fp.n.inst.Files()[old]) {
				logctx.From(ctx, p.log).InfoContext(ctx, "apk patcher: keeping a changed configuration file the new version dropped", "package", fp.n.name, "path", "/"+old)
				continue
			}
			b.Whiteout(n.RealPath)
			logctx.From(ctx, p.log).DebugContext(ctx, "apk patcher: removing file the new version dropped", "package", fp.n.name, "path", "/"+old)
		}
	}
}

// userChanged reports whether a file in the image differs from what its
// package installed (its "Z:" checksum); a file the package did not list
// counts as changed.
func userChanged(cur imagefs.Node, old *apk.InstalledFileEntry) bool {
	if cur.Kind != imagefs.KindRegular {
		return false
	}
	sum := sha1.Sum(cur.Content)
	return old == nil || old.Checksum != apk.ChecksumSHA1(sum[:])
}

// addPackage puts one package's entries into the layer.
func (p *Patcher) addPackage(ctx context.Context, st *imageState, b *layer.Builder, lay *layer.Layout, look *layer.Lookup, fp *fetched, newReal map[string]bool) error {
	var oldFiles map[string]*apk.InstalledFileEntry
	if fp.n.inst != nil {
		oldFiles = fp.n.inst.Files()
	}
	for _, e := range fp.entries {
		if e.hdr.Typeflag != tar.TypeDir {
			continue
		}
		if err := b.PutDir(lay, e.hdr.Name, e.hdr); err != nil {
			return err
		}
	}
	for _, e := range fp.entries {
		name := e.hdr.Name
		if e.hdr.Typeflag == tar.TypeDir {
			continue
		}
		if err := b.MkdirParents(lay, name); err != nil {
			return err
		}
		if e.hdr.Typeflag == tar.TypeSymlink && lay.Stat(name).Kind == imagefs.KindDir {
			logctx.From(ctx, p.log).WarnContext(ctx, "apk patcher: keeping the image's directory where the package has a symlink", "path", "/"+name)
			continue
		}
		rp, err := lay.Real(name)
		if err != nil {
			return err
		}
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeLink {
			if hdr.Linkname, err = lay.Real(hdr.Linkname); err != nil {
				return err
			}
		}
		if hdr.Typeflag == tar.TypeReg && st.isProtected(name) {
			if cur := look.Files[name]; userChanged(cur, oldFiles[name]) && !sameContent(cur, e.sum) {
				logctx.From(ctx, p.log).InfoContext(ctx, "apk patcher: configuration file changed in the image; installing the new one as .apk-new", "package", fp.n.name, "path", "/"+name)
				newReal[rp] = true
				fp.kept[name] = true
				rp += ".apk-new"
			}
		}
		if b.Has(rp) {
			logctx.From(ctx, p.log).WarnContext(ctx, "apk patcher: path shipped by two packages; keeping the first", "path", "/"+name, "package", fp.n.name)
			continue
		}
		newReal[rp] = true
		le := &layer.Entry{Header: hdr}
		if hdr.Typeflag == tar.TypeReg {
			le.Spooled, le.Off, le.Len = true, e.off, e.len
		}
		b.Put(rp, le)
	}
	return nil
}

// sameContent reports whether a file in the image has the checksum sum.
func sameContent(cur imagefs.Node, sum apk.Checksum) bool {
	s := sha1.Sum(cur.Content)
	return cur.Kind == imagefs.KindRegular && apk.ChecksumSHA1(s[:]) == sum
}

// skippedScripts lists the install scripts of the new packages that apk
// would have run: the upgrade scripts of upgrades, the install scripts of
// new packages, and triggers.
func skippedScripts(pkgs []*fetched) []patch.SkippedScripts {
	var out []patch.SkippedScripts
	for _, fp := range pkgs {
		var names []string
		for _, s := range fp.file.Scripts {
			upgrade := s.Name == ".pre-upgrade" || s.Name == ".post-upgrade"
			install := s.Name == ".pre-install" || s.Name == ".post-install"
			if s.Name == ".trigger" || (upgrade && fp.n.inst != nil) || (install && fp.n.inst == nil) {
				names = append(names, s.Name)
			}
		}
		if len(names) > 0 {
			out = append(out, patch.SkippedScripts{Package: fp.n.name, Scripts: names})
		}
	}
	return out
}
