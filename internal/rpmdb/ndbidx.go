package rpmdb

import (
	"bytes"
	"errors"
	"fmt"
)

// One NDB index (lib/backend/ndb/rpmidx.c), stored as the Index.db blob
// (tag, 0): a 64-byte header, nslots 8-byte slots (key offset with extra
// hash bits, data) followed by nslots 4-byte overflow words, then the key
// area. Keys are found by open addressing on a murmur hash.
const (
	idxMagic      = 'R' | 'p'<<8 | 'm'<<16 | 'I'<<24
	idxSlotOffset = 64
	idxKeyChunk   = 4096
	idxSubtag     = 0
	idxSubRebuild = 1
	idxDummy      = 0xffffffff
)

type idxDB struct {
	x   *xdb
	tag uint32
	id  uint32

	generation, nslots, usedslots, dummyslots, xmask, keyend, keyexcess uint32
}

// mem returns the index's bytes; it changes whenever the blob is resized.
func (ix *idxDB) mem() []byte { return ix.x.blob(ix.id) }

func (ix *idxDB) readHeader() error {
	m := ix.mem()
	if len(m) < 4096 {
		return fmt.Errorf("ndb Index.db: index %d: blob of %d bytes", ix.tag, len(m))
	}
	if le.Uint32(m) != idxMagic || le.Uint32(m[4:]) != 0 {
		return fmt.Errorf("ndb Index.db: index %d: bad magic or version", ix.tag)
	}
	ix.generation, ix.nslots, ix.usedslots, ix.dummyslots = le.Uint32(m[8:]), le.Uint32(m[12:]), le.Uint32(m[16:]), le.Uint32(m[20:])
	ix.xmask, ix.keyend, ix.keyexcess = le.Uint32(m[24:]), le.Uint32(m[28:]), le.Uint32(m[32:])
	n := ix.nslots
	if n < 256 || n&(n-1) != 0 || ix.usedslots > n || ix.dummyslots > n || n >= (0xffffffff-idxSlotOffset)/12 {
		return fmt.Errorf("ndb Index.db: index %d: bad slot counts", ix.tag)
	}
	if uint64(len(m)) <= idxSlotOffset+uint64(n)*12 || uint64(ix.keyend) > uint64(len(m))-(idxSlotOffset+uint64(n)*12) {
		return fmt.Errorf("ndb Index.db: index %d: key area outside the blob", ix.tag)
	}
	return nil
}

func (ix *idxDB) writeHeader() {
	m := ix.mem()
	for i, v := range []uint32{idxMagic, 0, ix.generation, ix.nslots, ix.usedslots, ix.dummyslots, ix.xmask, ix.keyend, ix.keyexcess} {
		le.PutUint32(m[4*i:], v)
	}
}

func (ix *idxDB) hmask() uint32 { return ix.nslots - 1 }
func (ix *idxDB) slot(m []byte, h uint32) []byte {
	return m[idxSlotOffset+8*h : idxSlotOffset+8*h+8]
}
func (ix *idxDB) ovl(m []byte, h uint32) []byte {
	o := idxSlotOffset + 8*ix.nslots + 4*h
	return m[o : o+4]
}
func (ix *idxDB) keys(m []byte) []byte { return m[idxSlotOffset+12*ix.nslots:] }

func murmur(s []byte) uint32 {
	const m = 0x5bd1e995
	l := uint32(len(s))
	h := l * m
	for len(s) >= 4 {
		h += uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
		h *= m
		h ^= h >> 16
		s = s[4:]
	}
	switch len(s) {
	case 3:
		h += uint32(s[2]) << 16
		fallthrough
	case 2:
		h += uint32(s[1]) << 8
		fallthrough
	case 1:
		h += uint32(s[0])
		h *= m
		h ^= h >> 16
	}
	h *= m
	h ^= h >> 10
	h *= m
	h ^= h >> 17
	return h
}

func keyLenSize(l uint32) uint32 {
	switch {
	case l != 0 && l < 255:
		return 1
	case l < 65535:
		return 3
	}
	return 7
}

func encodeKeyLen(p []byte, l uint32) {
	switch keyLenSize(l) {
	case 1:
		p[0] = byte(l)
	case 3:
		p[0], p[1], p[2] = 255, byte(l), byte(l>>8)
	default:
		p[0], p[1], p[2] = 255, 255, 255
		le.PutUint32(p[3:], l)
	}
}

// decodeKeyLenChecked is decodeKeyLen for p of any length.
func decodeKeyLenChecked(p []byte) (l, hl uint32, ok bool) {
	if len(p) == 0 || (p[0] == 255 && len(p) < 3) || (p[0] == 255 && p[1] == 255 && p[2] == 255 && len(p) < 7) {
		return 0, 0, false
	}
	l, hl = decodeKeyLen(p)
	return l, hl, true
}

func decodeKeyLen(p []byte) (l, hl uint32) {
	switch {
	case p[0] != 255:
		return uint32(p[0]), 1
	case p[1] != 255 || p[2] != 255:
		return uint32(p[1]) | uint32(p[2])<<8, 3
	}
	return le.Uint32(p[3:]), 7
}

func (ix *idxDB) equalKey(m []byte, off uint32, key []byte) bool {
	l := uint32(len(key))
	if uint64(off)+uint64(l)+1 > uint64(ix.keyend) {
		return false
	}
	p := ix.keys(m)[off:]
	hl := keyLenSize(l)
	if uint64(off)+uint64(hl)+uint64(l) > uint64(len(ix.keys(m))) {
		return false
	}
	var want [7]byte
	encodeKeyLen(want[:], l)
	return bytes.Equal(p[:hl], want[:hl]) && bytes.Equal(p[hl:hl+l], key)
}

func encodeData(pkgidx, datidx uint32) (data, ovl uint32) {
	switch {
	case pkgidx < 0x100000 && datidx < 0x400:
		return pkgidx | datidx<<20, 0
	case pkgidx < 0x1000000 && datidx < 0x40:
		return pkgidx | datidx<<24 | 0x40000000, 0
	}
	return datidx | 0x80000000, pkgidx
}

// openIdx opens index tag, creating it empty when missing.
func openIdx(x *xdb, tag uint32) (*idxDB, bool, error) {
	ix := &idxDB{x: x, tag: tag, id: x.lookup(tag, idxSubtag)}
	if ix.id == 0 {
		if err := ix.rebuild(); err != nil {
			return nil, false, err
		}
		return ix, true, nil
	}
	return ix, false, ix.readHeader()
}

// rebuild copies the index into a fresh, larger blob (rpmidxRebuildInternal).
func (ix *idxDB) rebuild() error {
	var old []byte
	if ix.id != 0 {
		old = append([]byte(nil), ix.mem()...)
	}
	n := uint32(0)
	for i := uint32(0); i < ix.nslots; i++ {
		if x := le.Uint32(ix.slot(old, i)); x != 0 && x != idxDummy {
			n++
		}
	}
	n = max(n, 256)
	for n&(n-1) != 0 {
		n &= n - 1
	}
	n *= 4
	ps := ix.x.pagesize
	keySize := max(ix.keyend, idxKeyChunk)
	fileSize := idxSlotOffset + n*12 + keySize
	if add := fileSize & (ps - 1); add != 0 {
		fileSize += ps - add
		keySize += ps - add
	}
	xmask := uint32(0x10000)
	for xmask != 0 && xmask < keySize+8192 {
		xmask <<= 1
	}
	if xmask != 0 {
		xmask = ^(xmask - 1)
	}
	nid, err := ix.x.lookupCreate(ix.tag, idxSubRebuild, true)
	if err != nil {
		return err
	}
	if err := ix.x.resize(nid, uint64(fileSize)); err != nil {
		return err
	}
	nix := &idxDB{x: ix.x, tag: ix.tag, id: nid, nslots: n, xmask: xmask}
	nm := nix.mem()
	done := make([]bool, ix.nslots)
	keyend := uint32(1)
	for i := uint32(0); i < ix.nslots; i++ {
		x := le.Uint32(ix.slot(old, i))
		if x == 0 || x == idxDummy || done[i] {
			continue
		}
		x &^= ix.xmask
		if x >= ix.keyend {
			return fmt.Errorf("ndb Index.db: index %d: key offset %d past the keys", ix.tag, x)
		}
		k := ix.keys(old)[x:ix.keyend]
		l, hl, ok := decodeKeyLenChecked(k)
		if !ok || uint64(hl)+uint64(l) > uint64(len(k)) || uint64(keyend)+uint64(hl)+uint64(l) > uint64(len(nix.keys(nm))) {
			return fmt.Errorf("ndb Index.db: index %d: bad key at offset %d", ix.tag, x)
		}
		keyoff := keyend
		keyend += hl + l
		copy(nix.keys(nm)[keyoff:], k[:hl+l])
		if err := ix.copyKeyEntries(old, k[hl:hl+l], x, nix, nm, keyoff, done); err != nil {
			return err
		}
	}
	nix.keyend = keyend
	nix.generation = ix.generation + 1
	nix.writeHeader()
	// Give back key space beyond one chunk.
	xsize := fileSize - keySize + keyend + idxKeyChunk
	xsize = (xsize + ps - 1) &^ (ps - 1)
	if xsize < fileSize {
		if err := ix.x.resize(nid, uint64(xsize)); err != nil {
			return err
		}
	}
	if err := ix.x.rename(&nid, ix.tag, idxSubtag); err != nil {
		return err
	}
	ix.id = nid
	return ix.readHeader()
}

func (ix *idxDB) copyKeyEntries(old []byte, key []byte, oldoff uint32, nix *idxDB, nm []byte, newoff uint32, done []bool) error {
	keyh := murmur(key)
	oldoff |= keyh & ix.xmask
	newoff |= keyh & nix.xmask
	hmask := ix.hmask()
	for h, hh := keyh&hmask, uint32(7); ; h, hh = (h+hh)&hmask, hh+1 {
		if hh-7 > ix.nslots {
			return fmt.Errorf("ndb Index.db: index %d: no free slot (damaged)", ix.tag)
		}
		e := ix.slot(old, h)
		x := le.Uint32(e)
		if x == 0 {
			break
		}
		if x != oldoff {
			continue
		}
		data := le.Uint32(e[4:])
		ovl := uint32(0)
		if data&0x80000000 != 0 {
			ovl = le.Uint32(ix.ovl(old, h))
		}
		if err := nix.copyEntry(nm, keyh, newoff, data, ovl); err != nil {
			return err
		}
		done[h] = true
	}
	return nil
}

func (ix *idxDB) copyEntry(m []byte, keyh, keyoff, data, ovl uint32) error {
	hmask := ix.hmask()
	h, hh := keyh&hmask, uint32(7)
	for le.Uint32(ix.slot(m, h)) != 0 {
		h, hh = (h+hh)&hmask, hh+1
		if hh-7 > ix.nslots || ix.usedslots >= ix.nslots {
			return fmt.Errorf("ndb Index.db: index %d: rebuilt index is full (damaged)", ix.tag)
		}
	}
	e := ix.slot(m, h)
	le.PutUint32(e, keyoff)
	le.PutUint32(e[4:], data)
	if ovl != 0 {
		le.PutUint32(ix.ovl(m, h), ovl)
	}
	ix.usedslots++
	return nil
}

// check rebuilds the index when it is too full, has too many holes in its
// keys or its keys outgrew the extra hash bits (rpmidxCheck).
func (ix *idxDB) check() error {
	if ix.usedslots > ix.nslots/2 || (ix.keyexcess > 4096 && ix.keyexcess*4 > ix.keyend) || ix.keyend >= ^ix.xmask {
		return ix.rebuild()
	}
	return nil
}

func (ix *idxDB) addNewKey(key []byte) (uint32, error) {
	l := uint32(len(key))
	hl := keyLenSize(l)
	for uint64(len(ix.keys(ix.mem())))-uint64(ix.keyend) < uint64(hl+l) {
		add := max(ix.x.pagesize, idxKeyChunk)
		if err := ix.x.resize(ix.id, uint64(len(ix.mem()))+uint64(add)); err != nil {
			return 0, err
		}
	}
	k := ix.keys(ix.mem())[ix.keyend:]
	encodeKeyLen(k, l)
	copy(k[hl:], key)
	off := ix.keyend
	ix.keyend += hl + l
	le.PutUint32(ix.mem()[28:], ix.keyend)
	return off, nil
}

func (ix *idxDB) bumpGeneration() {
	ix.generation++
	le.PutUint32(ix.mem()[8:], ix.generation)
}

// put adds (key, pkgidx, datidx) unless present (rpmidxPutInternal).
func (ix *idxDB) put(key []byte, pkgidx, datidx uint32) error {
	if datidx >= 0x80000000 || len(key) >= 0x80000000 || pkgidx == 0 {
		return errors.New("ndb Index.db: entry out of range")
	}
	if err := ix.check(); err != nil {
		return err
	}
	keyh := murmur(key)
	data, ovl := encodeData(pkgidx, datidx)
	m := ix.mem()
	hmask, xmask := ix.hmask(), ix.xmask
	keyoff, freeh := uint32(0), uint32(idxDummy)
	h, hh := keyh&hmask, uint32(7)
	for ; ; h, hh = (h+hh)&hmask, hh+1 {
		if hh-7 > ix.nslots {
			return fmt.Errorf("ndb Index.db: index %d: no free slot (damaged)", ix.tag)
		}
		x := le.Uint32(ix.slot(m, h))
		if x == 0 {
			break
		}
		if x == idxDummy {
			freeh = h
			continue
		}
		if keyoff == 0 {
			if (x^keyh)&xmask != 0 || !ix.equalKey(m, x&^xmask, key) {
				continue
			}
			keyoff = x
		}
		if keyoff != x {
			continue
		}
		if le.Uint32(ix.slot(m, h)[4:]) == data && (ovl == 0 || le.Uint32(ix.ovl(m, h)) == ovl) {
			return nil // already there
		}
	}
	if keyoff == 0 {
		off, err := ix.addNewKey(key)
		if err != nil {
			return err
		}
		keyoff = off | keyh&xmask
		m = ix.mem()
	}
	if freeh == idxDummy {
		ix.usedslots++
		le.PutUint32(m[16:], ix.usedslots)
	} else {
		h = freeh
		if ix.dummyslots != 0 {
			ix.dummyslots--
			le.PutUint32(m[20:], ix.dummyslots)
		}
	}
	e := ix.slot(m, h)
	le.PutUint32(e, keyoff)
	le.PutUint32(e[4:], data)
	if ovl != 0 {
		le.PutUint32(ix.ovl(m, h), ovl)
	}
	ix.bumpGeneration()
	return nil
}

// del removes (key, pkgidx, datidx) (rpmidxDelInternal).
func (ix *idxDB) del(key []byte, pkgidx, datidx uint32) error {
	if datidx >= 0x80000000 || len(key) >= 0x80000000 || pkgidx == 0 {
		return errors.New("ndb Index.db: entry out of range")
	}
	if err := ix.check(); err != nil {
		return err
	}
	keyh := murmur(key)
	data, ovl := encodeData(pkgidx, datidx)
	m := ix.mem()
	hmask, xmask := ix.hmask(), ix.xmask
	keyoff, others := uint32(0), false
	for h, hh := keyh&hmask, uint32(7); ; h, hh = (h+hh)&hmask, hh+1 {
		if hh-7 > ix.nslots {
			return fmt.Errorf("ndb Index.db: index %d: no free slot (damaged)", ix.tag)
		}
		e := ix.slot(m, h)
		x := le.Uint32(e)
		if x == 0 {
			break
		}
		if x == idxDummy {
			continue
		}
		if keyoff == 0 {
			if (x^keyh)&xmask != 0 || !ix.equalKey(m, x&^xmask, key) {
				continue
			}
			keyoff = x
		}
		if keyoff != x {
			continue
		}
		if le.Uint32(e[4:]) != data || (ovl != 0 && le.Uint32(ix.ovl(m, h)) != ovl) {
			others = true
			continue
		}
		le.PutUint32(e, idxDummy)
		le.PutUint32(e[4:], idxDummy)
		if ovl != 0 {
			le.PutUint32(ix.ovl(m, h), 0)
		}
		ix.dummyslots++
		le.PutUint32(m[20:], ix.dummyslots)
	}
	if keyoff != 0 && !others {
		l := uint32(len(key))
		hl := keyLenSize(l)
		clear(ix.keys(m)[keyoff&^xmask : keyoff&^xmask+hl+l])
		ix.keyexcess += hl + l
		le.PutUint32(m[32:], ix.keyexcess)
	}
	if keyoff != 0 {
		ix.bumpGeneration()
	}
	return nil
}

// entries returns every (key, pkgidx, datidx) of the index, for tests and
// checks: keys in key-area order, entries in slot order.
func (ix *idxDB) entries() (map[string][][2]uint32, error) {
	m := ix.mem()
	out := map[string][][2]uint32{}
	keys := ix.keys(m)
	for h := uint32(0); h < ix.nslots; h++ {
		e := ix.slot(m, h)
		x := le.Uint32(e)
		if x == 0 || x == idxDummy {
			continue
		}
		off := x &^ ix.xmask
		if off >= ix.keyend {
			return nil, fmt.Errorf("ndb Index.db: index %d: key offset %d past the keys", ix.tag, off)
		}
		l, hl, ok := decodeKeyLenChecked(keys[off:ix.keyend])
		if !ok || uint64(off)+uint64(hl)+uint64(l) > uint64(ix.keyend) {
			return nil, fmt.Errorf("ndb Index.db: index %d: key past the keys", ix.tag)
		}
		key := string(keys[off+hl : off+hl+l])
		data := le.Uint32(e[4:])
		var pkg, dat uint32
		switch {
		case data&0x80000000 != 0:
			pkg, dat = le.Uint32(ix.ovl(m, h)), data^0x80000000
		case data&0x40000000 != 0:
			pkg, dat = data&0xffffff, (data^0x40000000)>>24
		default:
			pkg, dat = data&0xfffff, data>>20
		}
		out[key] = append(out[key], [2]uint32{pkg, dat})
	}
	return out, nil
}
