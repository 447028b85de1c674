package apt

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch/layer"
)

// writeDatabase adds the dpkg database changes to the layer: the records of
// the new versions (the whole status file, or status.d files on distroless
// images) and, when the image has them, the info files.
func (p *Patcher) writeDatabase(st *imageState, b *layer.Builder, pkgs []*debPackage, info *infoSet) error {
	if st.db.distroless {
		return p.writeStatusD(st, b, pkgs)
	}
	if err := p.writeStatus(st, b, pkgs); err != nil {
		return err
	}
	for _, dp := range pkgs {
		writeInfo(b, dp, info)
	}
	return nil
}

// writeStatus rewrites var/lib/dpkg/status with the new records: a
// package's record replaces the installed one (or a leftover record of the
// same package and architecture); other records keep their bytes; records
// of new packages go where their name sorts.
func (p *Patcher) writeStatus(st *imageState, b *layer.Builder, pkgs []*debPackage) error {
	blocks := slices.Clone(st.db.blocks)
	type key struct{ name, arch string }
	at := map[key]int{}
	names := make([]string, len(blocks))
	for i, blk := range blocks {
		para, err := deb.ParseParagraph(blk)
		if err != nil {
			return fmt.Errorf("parsing %s: %w", statusFile, err)
		}
		names[i] = para.Get("Package")
		at[key{names[i], para.Get("Architecture")}] = i
	}
	for _, dp := range pkgs {
		stanza, err := statusStanza(dp.info.Control, true, dp.conffiles)
		if err != nil {
			return fmt.Errorf("package %s: status record: %w", dp.state.name, err)
		}
		arch := dp.state.arch
		if dp.state.orig != nil {
			arch = dp.state.orig.Arch
		}
		if i, ok := at[key{dp.state.name, arch}]; ok {
			blocks[i] = stanza
			continue
		}
		i, _ := slices.BinarySearch(names, dp.state.name)
		if !slices.IsSorted(names) {
			i = len(names)
		}
		blocks = slices.Insert(blocks, i, stanza)
		names = slices.Insert(names, i, dp.state.name)
		for k, v := range at {
			if v >= i {
				at[k] = v + 1
			}
		}
		at[key{dp.state.name, arch}] = i
	}
	var buf bytes.Buffer
	for _, blk := range blocks {
		buf.Write(blk)
		buf.WriteByte('\n')
	}
	b.File(statusFile, 0o644, buf.Bytes())
	return nil
}

// writeStatusD writes the status.d files of the new versions on distroless
// images: the package's file (by its existing name, else the package
// name) and its .md5sums beside it when the directory keeps those.
func (p *Patcher) writeStatusD(st *imageState, b *layer.Builder, pkgs []*debPackage) error {
	dirHasSums := false
	for name := range st.db.statusD {
		if strings.HasSuffix(name, ".md5sums") {
			dirHasSums = true
		}
	}
	for _, dp := range pkgs {
		file := st.db.statusDFile(dp.state.name)
		withStatus := false
		if file == "" {
			file = dp.state.name
		}
		if dp.state.orig != nil {
			_, withStatus = dp.state.orig.Para.Lookup("Status")
		}
		stanza, err := statusStanza(dp.info.Control, withStatus, dp.conffiles)
		if err != nil {
			return fmt.Errorf("package %s: status record: %w", dp.state.name, err)
		}
		b.File(path.Join(statusDir, file), 0o644, stanza)
		_, hadSums := st.db.statusD[file+".md5sums"]
		if sums, ok := dp.info.Files["md5sums"]; ok && (hadSums || dp.state.orig == nil && dirHasSums) {
			b.File(path.Join(statusDir, file+".md5sums"), 0o644, sums)
		} else if hadSums {
			b.Whiteout(path.Join(statusDir, file+".md5sums"))
		}
	}
	return nil
}

// writeInfo writes a package's info files (its file list, md5sums,
// conffiles, maintainer scripts and other control files, as dpkg keeps
// them) and whiteouts for the installed version's info files the new
// version does not have.
func writeInfo(b *layer.Builder, dp *debPackage, info *infoSet) {
	ps := dp.state
	prefix := infoName(ps.name, ps.arch, ps.multiArch)
	written := map[string]bool{}
	put := func(name string, mode int64, data []byte) {
		b.File(pathOfInfo(name), mode, data)
		written[name] = true
	}
	var list bytes.Buffer
	list.WriteString("/.\n")
	for _, e := range dp.entries {
		list.WriteString("/" + e.Path + "\n")
	}
	put(prefix+".list", 0o644, list.Bytes())
	for _, name := range sortedNames(dp.info.Files) {
		if name == "control" {
			continue
		}
		mode := int64(0o644)
		if slices.Contains(deb.MaintainerScripts, name) || name == "config" {
			mode = 0o755
		}
		put(prefix+"."+name, mode, dp.info.Files[name])
	}
	if ps.orig == nil {
		return
	}
	for _, old := range []string{infoName(ps.orig.Name, ps.orig.Arch, ps.orig.MultiArch), prefix} {
		for name := range info.files {
			ext, ok := strings.CutPrefix(name, old+".")
			if ok && !written[name] && slices.Contains(infoExtensions, ext) {
				b.Whiteout(pathOfInfo(name))
			}
		}
	}
}
