package rpmdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/patchloop/patchloop/internal/rpm"
)

// ndbDB is rpm's NDB backend (SUSE): Packages.db and Index.db, changed in
// memory as rpm's lib/backend/ndb/glue.cc changes them and written back by
// commit.
type ndbDB struct {
	dir     string
	pkg     *pkgDB
	x       *xdb
	idx     map[rpm.Tag]*idxDB
	order   binary.ByteOrder
	hadIdx  bool
	changed bool
}

// ndbPageSize is the page size of a new Index.db (rpm uses the system's).
const ndbPageSize = 4096

// MaxNDBSize caps Packages.db and Index.db (ospkg.MaxRPMDBSize is the
// scanner's cap for the whole database).
const MaxNDBSize = 1 << 30

// readCapped reads a database file of at most MaxNDBSize bytes.
func readCapped(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > MaxNDBSize {
		return nil, fmt.Errorf("%s: %d bytes, over the %d-byte cap", path, fi.Size(), MaxNDBSize)
	}
	return os.ReadFile(path)
}

func openNDB(ctx context.Context, dir string) (backend, error) {
	pdata, err := readCapped(filepath.Join(dir, NDBPackages))
	if err != nil {
		return nil, fmt.Errorf("rpmdb: %w", err)
	}
	pkg, err := openPkgDB(pdata)
	if err != nil {
		return nil, fmt.Errorf("rpmdb %s: %w", filepath.Join(dir, NDBPackages), err)
	}
	n := &ndbDB{dir: dir, pkg: pkg, idx: map[rpm.Tag]*idxDB{}, order: hostOrder}
	xpath := filepath.Join(dir, NDBIndex)
	xdata, err := readCapped(xpath)
	switch {
	case err == nil:
		n.hadIdx = true
		if n.x, err = openXDB(xdata); err != nil {
			return nil, fmt.Errorf("rpmdb %s: %w", xpath, err)
		}
		if n.x.usergeneration != pkg.generation {
			// rpm rebuilds outdated indexes when it opens the database.
			if err := n.x.delAll(); err != nil {
				return nil, fmt.Errorf("rpmdb %s: %w", xpath, err)
			}
		}
	case errors.Is(err, os.ErrNotExist):
		n.x = newXDB(ndbPageSize)
	default:
		return nil, fmt.Errorf("rpmdb: %w", err)
	}
	missing := map[rpm.Tag]bool{}
	for _, ix := range Indexes {
		id, created, err := openIdx(n.x, uint32(ix.Tag))
		if err != nil {
			return nil, fmt.Errorf("rpmdb %s: %w", xpath, err)
		}
		n.idx[ix.Tag] = id
		if created {
			missing[ix.Tag] = true
		}
	}
	if len(missing) < len(Indexes) {
		if err := n.learnOrder(ctx); err != nil {
			return nil, err
		}
	}
	if len(missing) > 0 {
		n.changed = true
		if err := n.buildIndexes(ctx, missing); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// learnOrder reads the byte order of Installtid keys from the index.
func (n *ndbDB) learnOrder(ctx context.Context) error {
	ix := n.idx[rpm.TagInstallTID]
	ents, err := ix.entries()
	if err != nil {
		return err
	}
	for key, list := range ents {
		if len(list) == 0 {
			continue
		}
		blob, err := n.pkg.get(list[0][0])
		if err != nil {
			return nil
		}
		if h, err := rpm.ParseBlob(blob); err == nil {
			n.order = detectOrder([]byte(key), h)
		}
		return ctx.Err()
	}
	return nil
}

// buildIndexes fills the indexes that were just created (or the outdated
// ones rpm throws away) from every package, in rpm's order.
func (n *ndbDB) buildIndexes(ctx context.Context, empty map[rpm.Tag]bool) error {
	slots, err := n.pkg.list()
	if err != nil {
		return err
	}
	for _, s := range slots {
		if err := ctx.Err(); err != nil {
			return err
		}
		blob, _, err := n.pkg.readBlob(s)
		if err != nil {
			return err
		}
		h, err := rpm.ParseBlob(blob)
		if err != nil {
			return fmt.Errorf("rpmdb package %d: %w", s.pkgidx, err)
		}
		for _, ix := range Indexes {
			if !empty[ix.Tag] {
				continue
			}
			for _, k := range Keys(h, ix, n.order) {
				if err := n.idx[ix.Tag].put(k.Key, s.pkgidx, k.Idx); err != nil {
					return err
				}
			}
		}
	}
	n.x.setUserGeneration(n.pkg.generation)
	return nil
}

func (n *ndbDB) each(ctx context.Context, fn func(Package) error) error {
	slots, err := n.pkg.list()
	if err != nil {
		return err
	}
	// By package number, as the SQLite backend lists them.
	byNum := map[uint32]pkgSlot{}
	var nums []uint32
	for _, s := range slots {
		byNum[s.pkgidx] = s
		nums = append(nums, s.pkgidx)
	}
	sortUint32(nums)
	for _, num := range nums {
		if err := ctx.Err(); err != nil {
			return err
		}
		blob, _, err := n.pkg.readBlob(byNum[num])
		if err != nil {
			return err
		}
		if err := fn(Package{HNum: num, Blob: append([]byte(nil), blob...)}); err != nil {
			return err
		}
	}
	return nil
}

func sortUint32(s []uint32) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func (n *ndbDB) get(_ context.Context, hnum uint32) ([]byte, error) { return n.pkg.get(hnum) }

func (n *ndbDB) remove(ctx context.Context, hnum uint32, h *rpm.Header) error {
	n.changed = true
	if err := n.pkg.del(hnum); err != nil {
		return fmt.Errorf("rpmdb remove %d: %w", hnum, err)
	}
	for _, ix := range Indexes {
		for _, k := range Keys(h, ix, n.order) {
			if err := n.idx[ix.Tag].del(k.Key, hnum, k.Idx); err != nil {
				return fmt.Errorf("rpmdb remove %d from %s: %w", hnum, ix.Name, err)
			}
		}
	}
	n.x.setUserGeneration(n.pkg.generation)
	return ctx.Err()
}

func (n *ndbDB) add(ctx context.Context, blob []byte, h *rpm.Header) (uint32, error) {
	n.changed = true
	hnum, err := n.pkg.nextPkgIdx()
	if err != nil {
		return 0, fmt.Errorf("rpmdb add: %w", err)
	}
	if err := n.pkg.put(hnum, blob); err != nil {
		return 0, fmt.Errorf("rpmdb add: %w", err)
	}
	for _, ix := range Indexes {
		for _, k := range Keys(h, ix, n.order) {
			if err := n.idx[ix.Tag].put(k.Key, hnum, k.Idx); err != nil {
				return 0, fmt.Errorf("rpmdb add to %s: %w", ix.Name, err)
			}
		}
	}
	n.x.setUserGeneration(n.pkg.generation)
	return hnum, ctx.Err()
}

func (n *ndbDB) commit(ctx context.Context) (Changes, error) {
	if err := ctx.Err(); err != nil {
		return Changes{}, err
	}
	if !n.changed {
		return Changes{}, nil
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{NDBPackages, n.pkg.data}, {NDBIndex, n.x.data}} {
		path := filepath.Join(n.dir, f.name)
		tmp := path + ".patchloop-tmp"
		if err := os.WriteFile(tmp, f.data, 0o644); err != nil {
			return Changes{}, fmt.Errorf("rpmdb commit: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return Changes{}, fmt.Errorf("rpmdb commit: %w", err)
		}
	}
	return Changes{Write: []string{NDBPackages, NDBIndex}}, nil
}

func (n *ndbDB) close() error { return nil }

// InitNDB creates an empty NDB database in dir (Packages.db and Index.db),
// as rpm --initdb does with the ndb backend.
func InitNDB(dir string) error {
	p := &pkgDB{slotnpages: 1, nextpkgidx: 1, generation: 1}
	p.data = make([]byte, pkgPage)
	p.writeEmptySlotPage(0)
	p.writeHeader()
	x := newXDB(ndbPageSize)
	for _, ix := range Indexes {
		if _, _, err := openIdx(x, uint32(ix.Tag)); err != nil {
			return err
		}
	}
	x.setUserGeneration(p.generation)
	for _, f := range []struct {
		name string
		data []byte
	}{{NDBPackages, p.data}, {NDBIndex, x.data}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("rpmdb init: %w", err)
		}
	}
	return nil
}

func (n *ndbDB) entries(ix Index) ([]IndexEntry, error) {
	m, err := n.idx[ix.Tag].entries()
	if err != nil {
		return nil, err
	}
	var out []IndexEntry
	for key, list := range m {
		for _, e := range list {
			out = append(out, IndexEntry{Key: []byte(key), HNum: e[0], Idx: e[1]})
		}
	}
	return out, nil
}
