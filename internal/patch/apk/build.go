package apk

import (
	"archive/tar"
	"bytes"
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
	"github.com/patchloop/patchloop/internal/ospkg"
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

	// What the image holds where the packages go.
	dbPaths := []string{apk.InstalledFile, scriptsFile, triggersFile}
	var dirs, files, stats []string
	removals := map[string][]string{}
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
				p.log.InfoContext(ctx, "apk patcher: keeping a changed configuration file the new version dropped", "package", fp.n.name, "path", "/"+old)
				continue
			}
			b.Whiteout(n.RealPath)
			p.log.DebugContext(ctx, "apk patcher: removing file the new version dropped", "package", fp.n.name, "path", "/"+old)
		}
	}
	if err := b.CheckNoEntryUnderSymlink(); err != nil {
		return nil, err
	}
	if err := writeDatabase(st, b, lay, db, pkgs); err != nil {
		return nil, err
	}
	res := &buildResult{skipped: skippedScripts(pkgs)}
	for _, s := range res.skipped {
		p.log.WarnContext(ctx, "apk patcher: install scripts not run", "package", s.Package, "scripts", strings.Join(s.Scripts, ","))
	}
	if res.layer, err = b.WriteFile(ctx, workDir, sp); err != nil {
		return nil, err
	}
	return res, nil
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
		if e.hdr.Typeflag != tar.TypeDir || lay.DirExists(e.hdr.Name) {
			continue // never replace a directory (or a symlink to one) of the image
		}
		rd, err := lay.RealDir(e.hdr.Name)
		if err != nil {
			return err
		}
		if !b.Has(rd) {
			b.Put(rd, &layer.Entry{Header: e.hdr})
		}
	}
	for _, e := range fp.entries {
		name := e.hdr.Name
		if e.hdr.Typeflag == tar.TypeDir {
			continue
		}
		for _, a := range layer.Ancestors(name) {
			if lay.DirExists(a) {
				continue
			}
			rd, err := lay.RealDir(a)
			if err != nil {
				return err
			}
			if !b.Has(rd) {
				b.Dir(rd)
			}
		}
		if e.hdr.Typeflag == tar.TypeSymlink && lay.Stat(name).Kind == imagefs.KindDir {
			p.log.WarnContext(ctx, "apk patcher: keeping the image's directory where the package has a symlink", "path", "/"+name)
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
				p.log.InfoContext(ctx, "apk patcher: configuration file changed in the image; installing the new one as .apk-new", "package", fp.n.name, "path", "/"+name)
				newReal[rp] = true
				fp.kept[name] = true
				rp += ".apk-new"
			}
		}
		if b.Has(rp) {
			p.log.WarnContext(ctx, "apk patcher: path shipped by two packages; keeping the first", "path", "/"+name, "package", fp.n.name)
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

// cloneInstalled copies the database deeply enough to change its file
// lists and records.
func cloneInstalled(db *apk.Installed) *apk.Installed {
	out := &apk.Installed{}
	for _, p := range db.Packages {
		np := *p
		np.Dirs = nil
		for _, d := range p.Dirs {
			nd := *d
			nd.Files = slices.Clone(d.Files)
			np.Dirs = append(np.Dirs, &nd)
		}
		out.Packages = append(out.Packages, &np)
	}
	return out
}

// takeOwnership moves files a new package ships from the installed
// packages that stay to the new package, which apk allows when the new
// package replaces the other or shares its origin; otherwise the plan
// conflicts.
func takeOwnership(db *apk.Installed, pkgs []*fetched) error {
	changed := map[string]bool{}
	for _, fp := range pkgs {
		changed[fp.n.name] = true
	}
	for _, other := range db.Packages {
		if changed[other.Name] {
			continue
		}
		for _, d := range other.Dirs {
			var keep []*apk.InstalledFileEntry
			for _, f := range d.Files {
				p := joinPath(d.Name, f.Name)
				var taker *fetched
				for _, fp := range pkgs {
					if _, ok := fp.paths[p]; ok {
						taker = fp
						break
					}
				}
				if taker == nil {
					keep = append(keep, f)
					continue
				}
				if !slices.Contains(taker.file.Info.Replaces, other.Name) && taker.n.cand.Origin != other.Origin {
					return fmt.Errorf("%w: %s ships /%s, which belongs to %s, and does not replace it", ErrConflict, taker.n.cand.Package, p, other.Package)
				}
			}
			d.Files = keep
		}
	}
	return nil
}

// ownedPaths returns the files the planned system's packages own, other
// than the old versions of the upgraded ones.
func ownedPaths(db *apk.Installed, pkgs []*fetched) map[string]bool {
	changed := map[string]bool{}
	out := map[string]bool{}
	for _, fp := range pkgs {
		changed[fp.n.name] = true
		for p := range fp.paths {
			out[p] = true
		}
	}
	for _, ip := range db.Packages {
		if changed[ip.Name] {
			continue
		}
		for p := range ip.Files() {
			out[p] = true
		}
	}
	return out
}

// joinPath joins a database directory ("" for the root) and a name.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// writeDatabase puts the new lib/apk/db/installed, scripts.tar and
// triggers into the layer.
func writeDatabase(st *imageState, b *layer.Builder, lay *layer.Layout, db *apk.Installed, pkgs []*fetched) error {
	for _, fp := range pkgs {
		rec := newRecord(fp)
		if i := slices.IndexFunc(db.Packages, func(p *apk.InstalledPackage) bool { return p.Name == fp.n.name }); i >= 0 {
			db.Packages[i] = rec
		} else {
			db.Packages = append(db.Packages, rec)
		}
	}
	put := func(p string, data []byte) error {
		for _, a := range layer.Ancestors(p) {
			if lay.DirExists(a) {
				continue
			}
			rd, err := lay.RealDir(a)
			if err != nil {
				return err
			}
			if !b.Has(rd) {
				b.Dir(rd)
			}
		}
		rp, err := lay.Real(p)
		if err != nil {
			return err
		}
		b.File(rp, 0o644, data)
		return nil
	}
	if err := put(apk.InstalledFile, db.Marshal()); err != nil {
		return err
	}
	scripts, err := newScripts(st, pkgs, b.ModTime)
	if err != nil {
		return err
	}
	if err := put(scriptsFile, scripts); err != nil {
		return err
	}
	if trig, ok := newTriggers(st, pkgs); ok {
		return put(triggersFile, trig)
	}
	return nil
}

// newRecord is the installed-database record of a new package: the
// index's fields (its C: checksum among them), "r:" for what it replaces,
// then its directories and files with their modes and checksums.
func newRecord(fp *fetched) *apk.InstalledPackage {
	rec := &apk.InstalledPackage{Package: fp.n.cand.Package, Header: slices.Clone(fp.n.cand.Fields)}
	rec.Header = slices.DeleteFunc(rec.Header, func(f ospkg.ApkField) bool { return f.Key == 'r' })
	if len(fp.file.Info.Replaces) > 0 {
		rec.Header = append(rec.Header, ospkg.ApkField{Key: 'r', Value: strings.Join(fp.file.Info.Replaces, " ")})
	}
	root := &apk.InstalledDir{}
	dirs := map[string]*apk.InstalledDir{"": root}
	var order []*apk.InstalledDir
	dirOfPath := func(d string) *apk.InstalledDir {
		if x, ok := dirs[d]; ok {
			return x
		}
		x := &apk.InstalledDir{Name: d}
		dirs[d] = x
		order = append(order, x)
		return x
	}
	for _, e := range fp.entries {
		h := e.hdr
		if h.Typeflag == tar.TypeDir {
			d := dirOfPath(h.Name)
			d.ACL = acl(h, 0o755)
			continue
		}
		d := dirOfPath(dirOf(h.Name))
		d.Files = append(d.Files, &apk.InstalledFileEntry{Name: baseName(h.Name), ACL: acl(h, 0o644), Checksum: e.sum})
	}
	if len(root.Files) > 0 {
		rec.Dirs = append(rec.Dirs, root)
	}
	rec.Dirs = append(rec.Dirs, order...)
	return rec
}

// acl returns apk's "uid:gid:mode" of an entry, or "" for root-owned
// entries of the default mode.
func acl(h tar.Header, def int64) string {
	if h.Uid == 0 && h.Gid == 0 && h.Mode&0o7777 == def {
		return ""
	}
	return fmt.Sprintf("%d:%d:%o", h.Uid, h.Gid, h.Mode&0o7777)
}

// baseName returns the last element of a path.
func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// scriptName is a script's name in scripts.tar.
func scriptName(name, version string, sum apk.Checksum, script string) string {
	return name + "-" + version + "." + string(sum) + script
}

// newScripts returns scripts.tar without the scripts of the replaced
// versions and with those of the new packages.
func newScripts(st *imageState, pkgs []*fetched, mtime time.Time) ([]byte, error) {
	old, err := readScripts(st.scripts)
	if err != nil {
		return nil, err
	}
	var drop []string
	for _, fp := range pkgs {
		if in := fp.n.inst; in != nil {
			drop = append(drop, scriptName(in.Name, in.Version, in.Checksum, "."))
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range old {
		if slices.ContainsFunc(drop, func(pfx string) bool { return strings.HasPrefix(e.hdr.Name, pfx) }) {
			continue
		}
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	for _, fp := range pkgs {
		for _, s := range fp.file.Scripts {
			h := &tar.Header{Name: scriptName(fp.n.cand.Name, fp.n.cand.Version, fp.file.Checksum, s.Name), Mode: 0o755, Size: int64(len(s.Data)), ModTime: mtime, Format: tar.FormatUSTAR}
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			if _, err := tw.Write(s.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// newTriggers returns lib/apk/db/triggers with the lines of the replaced
// versions dropped and those of new packages with triggers added; false
// when nothing changes.
func newTriggers(st *imageState, pkgs []*fetched) ([]byte, bool) {
	drop := map[string]bool{}
	var add []string
	for _, fp := range pkgs {
		if fp.n.inst != nil {
			drop[string(fp.n.inst.Checksum)] = true
		}
		if len(fp.file.Info.Triggers) > 0 {
			add = append(add, string(fp.file.Checksum)+" "+strings.Join(fp.file.Info.Triggers, " "))
		}
	}
	var out []string
	changed := len(add) > 0
	for _, l := range strings.Split(strings.TrimRight(string(st.triggers), "\n"), "\n") {
		if l == "" {
			continue
		}
		sum, _, _ := strings.Cut(l, " ")
		if drop[sum] {
			changed = true
			continue
		}
		out = append(out, l)
	}
	if !changed {
		return nil, false
	}
	out = append(out, add...)
	return []byte(strings.Join(out, "\n") + "\n"), true
}
