package layer

import "archive/tar"

// MkdirParents puts into b the directories above the package path p that
// the image lacks, at their real paths and with default metadata; the
// image's own directories (and symlinks to directories) get no entry.
// Every package manager calls it before putting a file.
func (b *Builder) MkdirParents(lay *Layout, p string) error {
	for _, a := range Ancestors(p) {
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
	return nil
}

// PutDir puts a package's directory d with the package's own header at
// its real path, unless the image already has a directory (or a symlink
// to one) there or the layer already has an entry: a layer never
// replaces a directory of the image nor changes its metadata. Package
// managers put their directories before their files, so that a
// package's metadata wins over MkdirParents' defaults.
func (b *Builder) PutDir(lay *Layout, d string, hdr tar.Header) error {
	if lay.DirExists(d) {
		return nil
	}
	rd, err := lay.RealDir(d)
	if err != nil {
		return err
	}
	if !b.Has(rd) {
		b.Put(rd, &Entry{Header: hdr})
	}
	return nil
}
