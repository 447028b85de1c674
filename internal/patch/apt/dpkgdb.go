package apt

import (
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/imagefs"
)

// installed is one record of the image's dpkg database.
type installed struct {
	Name, Arch, Version string
	// MultiArch is the Multi-Arch field ("same", "foreign", …).
	MultiArch string
	// Source and SourceVersion name the source package; they default to
	// the binary's name and version.
	Source, SourceVersion string
	// Want, Flag and State are the three words of the Status field.
	Want, Flag, State string
	// Para is the record as read.
	Para deb.Paragraph
	// Relationship fields, parsed.
	Depends, PreDepends, Breaks, Conflicts, Provides []deb.Alternatives
	// Conffiles is the Conffiles field: the md5 of each conffile as
	// shipped by the installed version.
	Conffiles []statusConffile
	// File is the database file holding the record; for status.d records
	// the file's path.
	File string
}

// statusConffile is one line of a status record's Conffiles field.
type statusConffile struct {
	Path, MD5 string
	// Flags are "obsolete", "remove-on-upgrade", …
	Flags []string
}

// isInstalled reports whether the record's files are on disk, as ospkg
// counts them: state installed or awaiting triggers, or a status.d record
// without a Status field.
func (p *installed) isInstalled() bool {
	if p.State == "" {
		return true
	}
	switch p.State {
	case "installed", "triggers-awaited", "triggers-pending":
		return true
	}
	return false
}

// dpkgDB is the image's package database.
type dpkgDB struct {
	// distroless is true when the image has status.d records and no
	// status file, as distroless images have.
	distroless bool
	// blocks are the records of the status file, in file order, raw.
	blocks [][]byte
	// records are every parsed record, status file first.
	records []*installed
	// statusD maps a status.d file's base name to its content.
	statusD map[string][]byte
}

// parseDpkgDB reads the status file and the status.d files.
func parseDpkgDB(status []byte, statusD []imagefs.Node, log *slog.Logger) (*dpkgDB, error) {
	db := &dpkgDB{statusD: map[string][]byte{}}
	if status != nil {
		db.blocks = deb.SplitParagraphs(status)
		for _, b := range db.blocks {
			rec, err := parseRecord(b, statusFile, log)
			if err != nil {
				return nil, err
			}
			if rec != nil {
				db.records = append(db.records, rec)
			}
		}
	}
	for _, n := range statusD {
		base := path.Base(n.Path)
		db.statusD[base] = n.Content
		if strings.HasSuffix(base, ".md5sums") {
			continue
		}
		for _, b := range deb.SplitParagraphs(n.Content) {
			rec, err := parseRecord(b, statusDir+"/"+base, log)
			if err != nil {
				return nil, err
			}
			if rec != nil {
				db.records = append(db.records, rec)
			}
		}
	}
	db.distroless = status == nil && len(statusD) > 0
	if status == nil && len(statusD) == 0 {
		return nil, fmt.Errorf("no dpkg database: neither %s nor %s/ exists", statusFile, statusDir)
	}
	return db, nil
}

// parseRecord parses one database record; a paragraph without a Package
// field gives nil.
func parseRecord(block []byte, file string, log *slog.Logger) (*installed, error) {
	p, err := deb.ParseParagraph(block)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", file, err)
	}
	rec := &installed{
		Name:      p.Get("Package"),
		Arch:      p.Get("Architecture"),
		Version:   p.Get("Version"),
		MultiArch: p.Get("Multi-Arch"),
		Para:      p,
		File:      file,
	}
	if rec.Name == "" {
		return nil, nil
	}
	if f := strings.Fields(p.Get("Status")); len(f) == 3 {
		rec.Want, rec.Flag, rec.State = f[0], f[1], f[2]
	} else if _, has := p.Lookup("Status"); has {
		rec.State = "unknown"
	}
	rec.Source, rec.SourceVersion = rec.Name, rec.Version
	if name, version := deb.ParseSource(p.Get("Source")); name != "" {
		rec.Source = name
		if version != "" {
			rec.SourceVersion = version
		}
	}
	fields := []struct {
		name string
		dst  *[]deb.Alternatives
	}{
		{"Depends", &rec.Depends}, {"Pre-Depends", &rec.PreDepends}, {"Breaks", &rec.Breaks},
		{"Conflicts", &rec.Conflicts}, {"Provides", &rec.Provides},
	}
	for _, f := range fields {
		v := p.Get(f.name)
		if v == "" {
			continue
		}
		rels, err := deb.ParseRelations(v)
		if err != nil {
			log.Warn("apt patcher: ignoring unparsable relationship field", "file", file, "package", rec.Name, "field", f.name, "err", err)
			continue
		}
		*f.dst = rels
	}
	for _, line := range p.Lines("Conffiles") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		c := statusConffile{Path: strings.TrimPrefix(f[0], "/"), MD5: f[1], Flags: f[2:]}
		rec.Conffiles = append(rec.Conffiles, c)
	}
	return rec, nil
}

// installedSet returns the records whose files are installed, skipping
// packages of foreign architectures (other than arch and "all").
func (db *dpkgDB) installedSet(arch string) map[string]*installed {
	out := map[string]*installed{}
	for _, r := range db.records {
		if !r.isInstalled() || (r.Arch != arch && r.Arch != "all" && r.Arch != "") {
			continue
		}
		out[r.Name] = r
	}
	return out
}

// infoName is the base name dpkg gives a package's files in
// var/lib/dpkg/info: "name", or "name:arch" for Multi-Arch: same packages.
func infoName(name, arch, multiArch string) string {
	if multiArch == "same" && arch != "" && arch != "all" {
		return name + ":" + arch
	}
	return name
}

// statusDFile returns the status.d file holding a package's record, or ""
// when it has none.
func (db *dpkgDB) statusDFile(name string) string {
	for _, r := range db.records {
		if r.Name == name && strings.HasPrefix(r.File, statusDir+"/") {
			return path.Base(r.File)
		}
	}
	return ""
}

// sortedNames returns the keys of a set of packages, sorted.
func sortedNames[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
