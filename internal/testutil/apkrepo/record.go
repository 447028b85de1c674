package apkrepo

import (
	"archive/tar"
	"fmt"
	"path"
	"strings"
)

// IndexRecord returns the package's APKINDEX record, as apk index writes
// it (without the blank line that ends it).
func (b *Built) IndexRecord() string {
	p := b.Package
	var s strings.Builder
	f := func(k byte, v string) {
		if v != "" {
			fmt.Fprintf(&s, "%c:%s\n", k, v)
		}
	}
	f('C', b.Checksum)
	f('P', p.Name)
	f('V', p.Version)
	f('A', p.arch())
	f('S', fmt.Sprint(len(b.Data)))
	f('I', fmt.Sprint(b.InstalledSize))
	f('T', "test package "+p.Name)
	f('U', "https://example.org/"+p.origin())
	f('L', "MIT")
	f('o', p.origin())
	f('m', "Patchloop Tests <tests@example.org>")
	f('t', fmt.Sprint(BuildTime.Unix()))
	f('D', strings.Join(p.Depends, " "))
	f('p', strings.Join(p.Provides, " "))
	f('i', strings.Join(p.InstallIf, " "))
	return s.String()
}

// InstalledRecord returns the package's record in lib/apk/db/installed,
// as apk writes it after installing the package (ending with the blank
// line): the index fields, "r:" replaces, then each directory ("F:", with
// "M:" when not root-owned 0755) and its files ("R:", "a:" when not
// root-owned 0644, "Z:" checksum).
func (b *Built) InstalledRecord() string {
	var s strings.Builder
	s.WriteString(b.IndexRecord())
	if len(b.Replaces) > 0 {
		fmt.Fprintf(&s, "r:%s\n", strings.Join(b.Replaces, " "))
	}
	files := map[string][]BuiltEntry{}
	for _, e := range b.Entries {
		if e.Type != tar.TypeDir {
			d := path.Dir(e.Path)
			if d == "." {
				d = ""
			}
			files[d] = append(files[d], e)
		}
	}
	writeFiles := func(dir string) {
		for _, e := range files[dir] {
			fmt.Fprintf(&s, "R:%s\n", path.Base(e.Path))
			if e.Mode != 0o644 || e.UID != 0 || e.GID != 0 {
				fmt.Fprintf(&s, "a:%d:%d:%o\n", e.UID, e.GID, e.Mode)
			}
			if e.Checksum != "" {
				fmt.Fprintf(&s, "Z:%s\n", e.Checksum)
			}
		}
	}
	writeFiles("")
	for _, e := range b.Entries {
		if e.Type != tar.TypeDir {
			continue
		}
		fmt.Fprintf(&s, "F:%s\n", e.Path)
		if e.Mode != 0o755 || e.UID != 0 || e.GID != 0 {
			fmt.Fprintf(&s, "M:%d:%d:%o\n", e.UID, e.GID, e.Mode)
		}
		writeFiles(e.Path)
	}
	s.WriteString("\n")
	return s.String()
}

// ScriptNames returns the names the package's scripts have in
// lib/apk/db/scripts.tar ("name-version.Q1….post-upgrade").
func (b *Built) ScriptNames() []string {
	var out []string
	for _, n := range sortedKeys(b.Scripts) {
		out = append(out, b.Name+"-"+b.Version+"."+b.Checksum+n)
	}
	return out
}

// TriggersLine returns the package's line in lib/apk/db/triggers: its
// checksum and the directories its trigger watches.
func (b *Built) TriggersLine() string {
	return b.Checksum + " " + strings.Join(b.Triggers, " ")
}
