package apk

import (
	"bytes"
	"fmt"
	"path"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// InstalledFile is the path of lib/apk/db/installed in an image.
const InstalledFile = "lib/apk/db/installed"

// Installed is lib/apk/db/installed: the installed packages, in file order.
type Installed struct {
	Packages []*InstalledPackage
}

// InstalledPackage is one record of the installed database: the package
// fields (those an index has, plus "r:", "q:", "s:", "f:" and other
// fields, kept in order) and the directories and files it owns.
type InstalledPackage struct {
	*Package
	// Header are the fields before the file list, in order.
	Header []ospkg.ApkField
	// Dirs are the directories, each with the files of the package in it.
	Dirs []*InstalledDir
}

// InstalledDir is an "F:" line, its "M:" and the files that follow.
type InstalledDir struct {
	// Name is the directory, relative to the root ("usr/bin"); "" for the
	// root.
	Name string
	// ACL is "uid:gid:mode" (and an xattr checksum), when not 0:0:755.
	ACL   string
	Files []*InstalledFileEntry
}

// InstalledFileEntry is an "R:" line with its "a:" and "Z:".
type InstalledFileEntry struct {
	// Name is the base name.
	Name string
	// ACL is "uid:gid:mode", when not 0:0:644.
	ACL string
	// Checksum is the "Z:" checksum of the content (of a symlink's target).
	Checksum Checksum
}

// ParseInstalled reads lib/apk/db/installed.
func ParseInstalled(data []byte) (*Installed, error) {
	recs, err := ospkg.ReadApkRecords(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", InstalledFile, err)
	}
	db := &Installed{}
	for _, r := range recs {
		ip := &InstalledPackage{}
		var dir *InstalledDir
		var file *InstalledFileEntry
		for _, f := range r.Fields {
			switch f.Key {
			case 'F':
				dir, file = &InstalledDir{Name: f.Value}, nil
				ip.Dirs = append(ip.Dirs, dir)
			case 'M':
				if dir == nil {
					return nil, fmt.Errorf("%s line %d: an M field before any F field", InstalledFile, r.Line)
				}
				dir.ACL = f.Value
			case 'R':
				if dir == nil {
					dir = &InstalledDir{}
					ip.Dirs = append(ip.Dirs, dir)
				}
				file = &InstalledFileEntry{Name: f.Value}
				dir.Files = append(dir.Files, file)
			case 'a', 'Z':
				if file == nil {
					return nil, fmt.Errorf("%s line %d: a %c field before any R field", InstalledFile, r.Line, f.Key)
				}
				if f.Key == 'a' {
					file.ACL = f.Value
				} else {
					file.Checksum = Checksum(f.Value)
				}
			default:
				ip.Header = append(ip.Header, f)
			}
		}
		ip.Package, err = packageFromRecord(ospkg.ApkRecord{Line: r.Line, Fields: ip.Header})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", InstalledFile, err)
		}
		db.Packages = append(db.Packages, ip)
	}
	return db, nil
}

// Lookup returns the installed package of a name, or nil.
func (db *Installed) Lookup(name string) *InstalledPackage {
	for _, p := range db.Packages {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Files returns the paths of the package's files (not directories),
// relative to the root, with their entries.
func (p *InstalledPackage) Files() map[string]*InstalledFileEntry {
	out := map[string]*InstalledFileEntry{}
	for _, d := range p.Dirs {
		for _, f := range d.Files {
			out[path.Join(d.Name, f.Name)] = f
		}
	}
	return out
}

// Marshal writes the database as apk does: each package's fields, then
// per directory "F:" and "M:", per file "R:", "a:" and "Z:", and a blank
// line after each package.
func (db *Installed) Marshal() []byte {
	var b bytes.Buffer
	for _, p := range db.Packages {
		for _, f := range p.Header {
			fmt.Fprintf(&b, "%c:%s\n", f.Key, f.Value)
		}
		for _, d := range p.Dirs {
			if d.Name != "" {
				fmt.Fprintf(&b, "F:%s\n", d.Name)
				if d.ACL != "" {
					fmt.Fprintf(&b, "M:%s\n", d.ACL)
				}
			}
			for _, f := range d.Files {
				fmt.Fprintf(&b, "R:%s\n", f.Name)
				if f.ACL != "" {
					fmt.Fprintf(&b, "a:%s\n", f.ACL)
				}
				if f.Checksum != "" {
					fmt.Fprintf(&b, "Z:%s\n", f.Checksum)
				}
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
