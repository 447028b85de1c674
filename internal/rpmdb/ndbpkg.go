package rpmdb

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"slices"
)

// Packages.db, rpm's NDB package store (lib/backend/ndb/rpmpkg.c): a
// 32-byte header and slot pages of 16-byte slots at the start, then blobs
// in 16-byte blocks. Every number is little-endian. This file does what
// rpm's rpmpkgPut and rpmpkgDel do, in the same order, so that the file
// ends as rpm would leave it.
const (
	pkgMagic      = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	pkgSlotMagic  = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	pkgBlobHead   = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	pkgBlobTail   = 'B' | 'l'<<8 | 'b'<<16 | 'E'<<24
	pkgPage       = 4096
	pkgSlotSize   = 16
	pkgBlk        = 16
	pkgHeaderSize = 32
	pkgSlotStart  = pkgHeaderSize / pkgSlotSize
	pkgBlobHeadSz = 16
	pkgBlobTailSz = 12
	pkgBlksPage   = pkgPage / pkgBlk
	pkgSlotsPage  = pkgPage / pkgSlotSize
	pkgMaxBlob    = 0xffffffff - (pkgBlobHeadSz + pkgBlobTailSz + pkgBlk - 1)
	pkgMaxSlotPgs = 0xffffffff / (pkgPage / pkgBlk)
)

var le = binary.LittleEndian

type pkgSlot struct {
	pkgidx, blkoff, blkcnt, slotno uint32
}

// pkgDB is a Packages.db held in memory.
type pkgDB struct {
	data                               []byte
	generation, slotnpages, nextpkgidx uint32
	slots                              []pkgSlot // as read by readSlots
	freeslot                           uint32
}

func openPkgDB(data []byte) (*pkgDB, error) {
	p := &pkgDB{data: data}
	if len(data) < pkgHeaderSize || le.Uint32(data) != pkgMagic {
		return nil, errors.New("ndb Packages.db: not an NDB package database")
	}
	if v := le.Uint32(data[4:]); v != 0 {
		return nil, fmt.Errorf("ndb Packages.db: version %d, want 0", v)
	}
	p.generation, p.slotnpages, p.nextpkgidx = le.Uint32(data[8:]), le.Uint32(data[12:]), le.Uint32(data[16:])
	if p.slotnpages == 0 || p.slotnpages > pkgMaxSlotPgs || uint64(p.slotnpages)*pkgPage > uint64(len(data)) {
		return nil, fmt.Errorf("ndb Packages.db: %d slot pages in %d bytes", p.slotnpages, len(data))
	}
	if err := p.readSlots(); err != nil {
		return nil, err
	}
	for _, s := range p.slots {
		if err := p.verifyBlob(s); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *pkgDB) fileblks() uint32 { return uint32(len(p.data) / pkgBlk) }

func (p *pkgDB) writeHeader() {
	h := p.data[:pkgHeaderSize]
	clear(h)
	le.PutUint32(h, pkgMagic)
	le.PutUint32(h[8:], p.generation)
	le.PutUint32(h[12:], p.slotnpages)
	le.PutUint32(h[16:], p.nextpkgidx)
}

// readSlots reads and checks every slot (rpmpkgReadSlots).
func (p *pkgDB) readSlots() error {
	if len(p.data)%pkgBlk != 0 {
		return fmt.Errorf("ndb Packages.db: size %d is not a multiple of %d", len(p.data), pkgBlk)
	}
	p.slots, p.freeslot = nil, 0
	fileblks := p.fileblks()
	minblkoff := p.slotnpages * pkgBlksPage
	slotno := uint32(pkgSlotStart)
	for page := uint32(0); page < p.slotnpages; page++ {
		o := uint32(0)
		if page == 0 {
			o = pkgSlotStart * pkgSlotSize
		}
		for ; o < pkgPage; o, slotno = o+pkgSlotSize, slotno+1 {
			b := p.data[page*pkgPage+o:]
			if le.Uint32(b) != pkgSlotMagic {
				return fmt.Errorf("ndb Packages.db: slot %d: bad magic", slotno)
			}
			s := pkgSlot{pkgidx: le.Uint32(b[4:]), blkoff: le.Uint32(b[8:]), blkcnt: le.Uint32(b[12:]), slotno: slotno}
			if s.blkoff == 0 {
				if p.freeslot == 0 {
					p.freeslot = slotno
				}
				continue
			}
			if s.blkoff >= 0xffffffff-s.blkcnt || s.blkoff+s.blkcnt > fileblks || s.pkgidx == 0 || s.blkcnt == 0 || s.blkoff < minblkoff {
				return fmt.Errorf("ndb Packages.db: slot %d (package %d at block %d, %d blocks) is outside the data", slotno, s.pkgidx, s.blkoff, s.blkcnt)
			}
			p.slots = append(p.slots, s)
		}
	}
	// One slot a package, and no two blobs sharing blocks: a crafted
	// file could otherwise list a package twice, and a removal would
	// leave its other record behind.
	seen := make(map[uint32]uint32, len(p.slots))
	for _, s := range p.slots {
		if prev, dup := seen[s.pkgidx]; dup {
			return fmt.Errorf("ndb Packages.db: package %d has two slots (%d and %d)", s.pkgidx, prev, s.slotno)
		}
		seen[s.pkgidx] = s.slotno
	}
	byOff := slices.Clone(p.slots)
	slices.SortFunc(byOff, func(a, b pkgSlot) int { return cmp.Compare(a.blkoff, b.blkoff) })
	for i := 1; i < len(byOff); i++ {
		if a, b := byOff[i-1], byOff[i]; a.blkoff+a.blkcnt > b.blkoff {
			return fmt.Errorf("ndb Packages.db: the blobs of slots %d and %d overlap", a.slotno, b.slotno)
		}
	}
	return nil
}

func (p *pkgDB) orderSlots() {
	slices.SortStableFunc(p.slots, func(a, b pkgSlot) int {
		switch {
		case a.blkoff < b.blkoff:
			return -1
		case a.blkoff > b.blkoff:
			return 1
		}
		return 0
	})
}

func (p *pkgDB) findSlot(pkgidx uint32) int {
	for i, s := range p.slots {
		if s.pkgidx == pkgidx {
			return i
		}
	}
	return -1
}

// findEmptyOffset finds room for blkcnt blocks, best fit
// (rpmpkgFindEmptyOffset); old is the slot of pkgidx or -1.
func (p *pkgDB) findEmptyOffset(pkgidx, blkcnt uint32, dontprepend bool) (blkoff uint32, old int, err error) {
	p.orderSlots()
	lastblkend := p.slotnpages * pkgBlksPage
	if dontprepend && len(p.slots) > 0 {
		lastblkend = p.slots[0].blkoff
	}
	var best, bestfree uint32
	old = -1
	for i, s := range p.slots {
		if s.blkoff < lastblkend {
			return 0, -1, errors.New("ndb Packages.db: slots overlap")
		}
		if s.pkgidx == pkgidx {
			if old >= 0 {
				return 0, -1, fmt.Errorf("ndb Packages.db: package %d has two slots", pkgidx)
			}
			old = i
		}
		free := s.blkoff - lastblkend
		if free >= blkcnt && (best == 0 || bestfree > free) {
			best, bestfree = lastblkend, free
		}
		lastblkend = s.blkoff + s.blkcnt
	}
	if best == 0 {
		best = lastblkend
	}
	if best >= 0xffffffff-blkcnt {
		return 0, -1, errors.New("ndb Packages.db: too large")
	}
	return best, old, nil
}

// ensure grows the file to hold blocks up to end.
func (p *pkgDB) ensure(end uint64) {
	if end > uint64(len(p.data)) {
		p.data = append(p.data, make([]byte, end-uint64(len(p.data)))...)
	}
}

func (p *pkgDB) writeSlot(slotno, pkgidx, blkoff, blkcnt uint32) error {
	if slotno < pkgSlotStart {
		return errors.New("ndb Packages.db: bad slot number")
	}
	if blkoff != 0 && slotno == p.freeslot {
		p.freeslot = 0
	}
	b := p.data[slotno*pkgSlotSize:]
	le.PutUint32(b, pkgSlotMagic)
	le.PutUint32(b[4:], pkgidx)
	le.PutUint32(b[8:], blkoff)
	le.PutUint32(b[12:], blkcnt)
	p.generation++
	p.writeHeader()
	return nil
}

func (p *pkgDB) writeEmptySlotPage(pageno uint32) {
	p.ensure(uint64(pageno+1) * pkgPage)
	page := p.data[pageno*pkgPage : (pageno+1)*pkgPage]
	start := 0
	if pageno == 0 {
		start = pkgSlotStart
	}
	for i := start; i < pkgSlotsPage; i++ {
		s := page[i*pkgSlotSize : (i+1)*pkgSlotSize]
		clear(s)
		le.PutUint32(s, pkgSlotMagic)
	}
}

func (p *pkgDB) zeroBlks(blkoff, blkcnt uint32) {
	end := uint64(blkoff+blkcnt) * pkgBlk
	p.ensure(end)
	clear(p.data[uint64(blkoff)*pkgBlk : end])
}

// validateZero checks that blocks about to be written are empty. rpm
// repairs some interrupted writes here; Patchloop refuses such a database.
func (p *pkgDB) validateZero(blkoff, blkcnt uint32) error {
	fileblks := p.fileblks()
	if blkoff > fileblks {
		return errors.New("ndb Packages.db: free area past the end")
	}
	n := blkcnt
	if blkoff+blkcnt > fileblks {
		n = fileblks - blkoff
	}
	if !allZero(p.data[uint64(blkoff)*pkgBlk : uint64(blkoff+n)*pkgBlk]) {
		return errors.New("ndb Packages.db: free area is not empty (interrupted write): run rpmdb --rebuilddb on the image first")
	}
	return nil
}

func blobBlocks(n uint32) uint32 { return (pkgBlobHeadSz + n + pkgBlobTailSz + pkgBlk - 1) / pkgBlk }

// readBlob returns a blob and its generation after checking its frame.
func (p *pkgDB) readBlob(s pkgSlot) ([]byte, uint32, error) {
	if s.blkcnt < blobBlocks(0) {
		return nil, 0, fmt.Errorf("ndb Packages.db: package %d: blob too small", s.pkgidx)
	}
	start := uint64(s.blkoff) * pkgBlk
	end := start + uint64(s.blkcnt)*pkgBlk
	if end > uint64(len(p.data)) {
		return nil, 0, fmt.Errorf("ndb Packages.db: package %d: blob past the end", s.pkgidx)
	}
	b := p.data[start:end]
	if le.Uint32(b) != pkgBlobHead || le.Uint32(b[4:]) != s.pkgidx {
		return nil, 0, fmt.Errorf("ndb Packages.db: package %d: bad blob header", s.pkgidx)
	}
	gen, n := le.Uint32(b[8:]), le.Uint32(b[12:])
	if n > pkgMaxBlob || s.blkcnt != blobBlocks(n) {
		return nil, 0, fmt.Errorf("ndb Packages.db: package %d: blob length %d does not fit %d blocks", s.pkgidx, n, s.blkcnt)
	}
	tail := b[len(b)-pkgBlobTailSz:]
	if le.Uint32(tail) != adler32.Checksum(b[:len(b)-pkgBlobTailSz]) || le.Uint32(tail[4:]) != n || le.Uint32(tail[8:]) != pkgBlobTail {
		return nil, 0, fmt.Errorf("ndb Packages.db: package %d: blob checksum or trailer mismatch", s.pkgidx)
	}
	return b[pkgBlobHeadSz : pkgBlobHeadSz+n], gen, nil
}

func (p *pkgDB) verifyBlob(s pkgSlot) error {
	_, _, err := p.readBlob(s)
	return err
}

func (p *pkgDB) writeBlob(pkgidx, blkoff, blkcnt uint32, blob []byte, gen uint32) error {
	if uint64(len(blob)) >= pkgMaxBlob || blkcnt != blobBlocks(uint32(len(blob))) {
		return errors.New("ndb Packages.db: blob size mismatch")
	}
	start := uint64(blkoff) * pkgBlk
	end := start + uint64(blkcnt)*pkgBlk
	p.ensure(end)
	b := p.data[start:end]
	le.PutUint32(b, pkgBlobHead)
	le.PutUint32(b[4:], pkgidx)
	le.PutUint32(b[8:], gen)
	le.PutUint32(b[12:], uint32(len(blob)))
	copy(b[pkgBlobHeadSz:], blob)
	clear(b[pkgBlobHeadSz+len(blob) : len(b)-pkgBlobTailSz])
	tail := b[len(b)-pkgBlobTailSz:]
	le.PutUint32(tail, adler32.Checksum(b[:len(b)-pkgBlobTailSz]))
	le.PutUint32(tail[4:], uint32(len(blob)))
	le.PutUint32(tail[8:], pkgBlobTail)
	return nil
}

func (p *pkgDB) delBlob(s pkgSlot) error {
	if err := p.verifyBlob(s); err != nil {
		return err
	}
	p.zeroBlks(s.blkoff, s.blkcnt)
	return nil
}

func (p *pkgDB) moveBlob(i int, newblkoff uint32) error {
	s := p.slots[i]
	blob, gen, err := p.readBlob(s)
	if err != nil {
		return err
	}
	blob = slices.Clone(blob)
	if err := p.writeBlob(s.pkgidx, newblkoff, s.blkcnt, blob, gen); err != nil {
		return err
	}
	if err := p.writeSlot(s.slotno, s.pkgidx, newblkoff, s.blkcnt); err != nil {
		return err
	}
	if err := p.delBlob(s); err != nil {
		return err
	}
	p.slots[i].blkoff = newblkoff
	return nil
}

func (p *pkgDB) addSlotPage() error {
	if p.slotnpages >= pkgMaxSlotPgs {
		return errors.New("ndb Packages.db: too many slot pages")
	}
	p.orderSlots()
	cutoff := (p.slotnpages + 1) * pkgBlksPage
	for len(p.slots) > 0 && p.slots[0].blkoff < cutoff {
		s := p.slots[0]
		newblkoff, old, err := p.findEmptyOffset(s.pkgidx, s.blkcnt, true)
		if err != nil {
			return err
		}
		if old != 0 {
			return errors.New("ndb Packages.db: slot bookkeeping")
		}
		if err := p.moveBlob(0, newblkoff); err != nil {
			return err
		}
		p.orderSlots()
	}
	if err := p.validateZero(p.slotnpages*pkgBlksPage, pkgBlksPage); err != nil {
		return err
	}
	p.writeEmptySlotPage(p.slotnpages)
	p.freeslot = p.slotnpages * pkgSlotsPage
	p.slotnpages++
	p.generation++
	p.writeHeader()
	return nil
}

// nextPkgIdx hands out a new package number (rpmpkgNextPkgIdx).
func (p *pkgDB) nextPkgIdx() (uint32, error) {
	if p.nextpkgidx == 0 {
		return 0, errors.New("ndb Packages.db: no next package number")
	}
	n := p.nextpkgidx
	p.nextpkgidx++
	p.writeHeader()
	return n, nil
}

// put stores blob as package pkgidx (rpmpkgPutInternal).
func (p *pkgDB) put(pkgidx uint32, blob []byte) error {
	if err := p.readSlots(); err != nil {
		return err
	}
	if uint64(len(blob)) >= pkgMaxBlob {
		return errors.New("ndb Packages.db: blob too large")
	}
	blkcnt := blobBlocks(uint32(len(blob)))
	blkoff, old, err := p.findEmptyOffset(pkgidx, blkcnt, false)
	if err != nil {
		return err
	}
	if old < 0 && p.freeslot == 0 {
		if err := p.addSlotPage(); err != nil {
			return err
		}
		if blkoff, old, err = p.findEmptyOffset(pkgidx, blkcnt, false); err != nil {
			return err
		}
	}
	if err := p.validateZero(blkoff, blkcnt); err != nil {
		return err
	}
	if err := p.writeBlob(pkgidx, blkoff, blkcnt, blob, p.generation); err != nil {
		return err
	}
	if pkgidx >= p.nextpkgidx {
		p.nextpkgidx = pkgidx + 1
	}
	slotno := p.freeslot
	if old >= 0 {
		slotno = p.slots[old].slotno
	}
	if err := p.writeSlot(slotno, pkgidx, blkoff, blkcnt); err != nil {
		return err
	}
	if old >= 0 {
		if err := p.delBlob(p.slots[old]); err != nil {
			return err
		}
	}
	return nil
}

// del removes package pkgidx and compacts as rpmpkgDelInternal does.
func (p *pkgDB) del(pkgidx uint32) error {
	if err := p.readSlots(); err != nil {
		return err
	}
	p.orderSlots()
	i := p.findSlot(pkgidx)
	if i < 0 {
		return nil
	}
	s := p.slots[i]
	if err := p.writeSlot(s.slotno, 0, 0, 0); err != nil {
		return err
	}
	if err := p.delBlob(s); err != nil {
		return err
	}
	n := len(p.slots)
	fileblks := p.fileblks()
	if n > 1 && s.blkoff < fileblks/2 {
		// Freed a blob in the first half: move up to two of the last
		// blobs into the hole, the bigger first.
		var blkoff, blkcnt uint32
		if i == 0 {
			blkoff = p.slotnpages * pkgBlksPage
		} else {
			blkoff = p.slots[i-1].blkoff + p.slots[i-1].blkcnt
		}
		if i < n-1 {
			blkcnt = p.slots[i+1].blkoff - blkoff
		} else {
			blkcnt = s.blkoff + s.blkcnt - blkoff
		}
		p.slots[i].blkoff, p.slots[i].blkcnt = 0, 0
		j := n - 2
		if p.slots[j].blkcnt < p.slots[j+1].blkcnt {
			j++
		}
		for k := 0; k < 2; k, j = k+1, j+1 {
			if j == n {
				j -= 2
			}
			c := p.slots[j]
			if c.blkoff == 0 || c.blkoff < blkoff || c.blkoff < p.fileblks()/2 || c.blkcnt > blkcnt {
				continue
			}
			if err := p.moveBlob(j, blkoff); err != nil {
				return err
			}
			blkoff += c.blkcnt
			blkcnt -= c.blkcnt
		}
		p.orderSlots()
	} else {
		p.slots[i].blkoff, p.slots[i].blkcnt = 0, 0
	}
	// Truncate the file when its tail is empty.
	last := n - 1
	if p.slots[last].blkoff == 0 && n > 1 {
		last--
	}
	end := p.slotnpages * pkgBlksPage
	if p.slots[last].blkoff != 0 {
		end = p.slots[last].blkoff + p.slots[last].blkcnt
	}
	if fileblks = p.fileblks(); end < fileblks/4*3 {
		if p.validateZero(end, fileblks-end) == nil {
			p.data = p.data[:uint64(end)*pkgBlk]
		}
	}
	return nil
}

// list returns the packages in block order, as rpm lists them.
func (p *pkgDB) list() ([]pkgSlot, error) {
	if err := p.readSlots(); err != nil {
		return nil, err
	}
	p.orderSlots()
	return slices.Clone(p.slots), nil
}

func (p *pkgDB) get(pkgidx uint32) ([]byte, error) {
	if err := p.readSlots(); err != nil {
		return nil, err
	}
	i := p.findSlot(pkgidx)
	if i < 0 {
		return nil, fmt.Errorf("rpmdb package %d: %w", pkgidx, ErrNoPackage)
	}
	blob, _, err := p.readBlob(p.slots[i])
	if err != nil {
		return nil, err
	}
	return slices.Clone(blob), nil
}

var zeroPage [4096]byte

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroPage))
		if !bytes.Equal(b[:n], zeroPage[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
