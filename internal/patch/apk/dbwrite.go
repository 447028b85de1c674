package apk

import (
	"archive/tar"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/layer"
)

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
					return fmt.Errorf("%w: %s ships /%s, which belongs to %s, and does not replace it", patch.ErrConflict, taker.n.cand.Package, p, other.Package)
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
		if err := b.MkdirParents(lay, p); err != nil {
			return err
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
