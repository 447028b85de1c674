package apt

import (
	"encoding/binary"
	"fmt"

	"github.com/patchloop/patchloop/internal/parsedcache"
)

// Parsed Packages indexes are parsedcache tables under parsedDir, named by
// the SHA256 the signed Release gives for the raw index, so a new
// InRelease naming a new digest is a new table and a stale one is never
// found. A record holds the fields the patcher needs (recordFields as
// uvarint-length-prefixed strings, Size uvarint, Essential byte); the one
// key index is the package name.
const (
	tableMagic = "PLAPTIX2"
	parsedDir  = "parsed"
)

// recordFields lists the string fields of a record, in stored order.
func recordFields(p *Package) []*string {
	return []*string{&p.Name, &p.Version, &p.Architecture, &p.Source, &p.SourceVersion,
		&p.Depends, &p.PreDepends, &p.Breaks, &p.Conflicts, &p.Provides, &p.Replaces,
		&p.MultiArch, &p.Filename, &p.SHA256}
}

// encodeRecord appends p's record to b.
func encodeRecord(b []byte, p *Package) []byte {
	for _, s := range recordFields(p) {
		b = binary.AppendUvarint(b, uint64(len(*s)))
		b = append(b, *s...)
	}
	b = binary.AppendUvarint(b, uint64(p.Size))
	if p.Essential {
		return append(b, 1)
	}
	return append(b, 0)
}

// decodeRecord reads a record encodeRecord wrote.
func decodeRecord(r []byte) (Package, error) {
	var p Package
	for _, s := range recordFields(&p) {
		n, k := binary.Uvarint(r)
		if k <= 0 || n > uint64(len(r)-k) {
			return Package{}, fmt.Errorf("%w: truncated record", parsedcache.ErrBadTable)
		}
		*s = string(r[k : k+int(n)])
		r = r[k+int(n):]
	}
	size, k := binary.Uvarint(r)
	if k <= 0 || len(r) <= k || size > 1<<62 {
		return Package{}, fmt.Errorf("%w: truncated record", parsedcache.ErrBadTable)
	}
	p.Size, p.Essential = int64(size), r[k] == 1
	return p, nil
}

// lookup returns the records of tab named name, in index order.
func lookup(tab *parsedcache.Table, name string) ([]Package, error) {
	recs, err := tab.Lookup(0, name)
	if err != nil {
		return nil, err
	}
	out := make([]Package, 0, len(recs))
	for _, r := range recs {
		p, err := decodeRecord(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
