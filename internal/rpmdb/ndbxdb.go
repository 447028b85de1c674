package rpmdb

import (
	"errors"
	"fmt"
	"slices"
)

// Index.db, rpm's NDB blob container (lib/backend/ndb/rpmxdb.c): a 32-byte
// header and slot pages of 16-byte slots naming (tag, subtag) blobs stored
// in whole pages. Each index is one blob (rpmidx). The operations here
// follow rpm's, in rpm's order, so that blobs move as rpm moves them.
const (
	xdbMagic     = 'R' | 'p'<<8 | 'm'<<16 | 'X'<<24
	xdbSlotMagic = 'S' | 'l'<<8 | 'o'<<16
	xdbHeader    = 32
	xdbSlotSize  = 16
	xdbSlotStart = xdbHeader / xdbSlotSize
	xdbMaxSlotPg = 0x10000
	xdbMinPage   = 0x100
	xdbMaxPage   = 0x10000
)

type xdbSlot struct {
	slotno, blobtag, subtag, startpage, pagecnt, next, prev uint32
}

// xdb is an Index.db held in memory.
type xdb struct {
	data                                             []byte
	pagesize, generation, slotnpages, usergeneration uint32
	slots                                            []xdbSlot // 0: head of the chain by position; nslots: its tail
	nslots, firstfree, usedblobpages                 uint32
}

// newXDB returns an empty Index.db (rpmxdbInitInternal).
func newXDB(pagesize uint32) *xdb {
	x := &xdb{pagesize: pagesize, slotnpages: 1, generation: 1}
	x.data = make([]byte, pagesize)
	x.writeEmptySlotPage(0)
	x.writeHeader()
	if err := x.readHeader(); err != nil {
		panic(err) // an empty database always reads
	}
	return x
}

func openXDB(data []byte) (*xdb, error) {
	x := &xdb{data: data}
	if err := x.readHeader(); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *xdb) writeHeader() {
	h := x.data[:24]
	le.PutUint32(h, xdbMagic)
	le.PutUint32(h[4:], 0)
	le.PutUint32(h[8:], x.generation)
	le.PutUint32(h[12:], x.slotnpages)
	le.PutUint32(h[16:], x.pagesize)
	le.PutUint32(h[20:], x.usergeneration)
}

func (x *xdb) writeEmptySlotPage(pageno uint32) {
	page := x.data[pageno*x.pagesize : (pageno+1)*x.pagesize]
	clear(page)
	start := uint32(0)
	if pageno == 0 {
		start = xdbSlotStart
	}
	for i := start; i < x.pagesize/xdbSlotSize; i++ {
		le.PutUint32(page[i*xdbSlotSize:], xdbSlotMagic)
	}
}

// readHeader reads the header and slots and chains the used slots by
// position (rpmxdbReadHeader).
func (x *xdb) readHeader() error {
	d := x.data
	if len(d) < xdbHeader || le.Uint32(d) != xdbMagic {
		return errors.New("ndb Index.db: not an NDB index database")
	}
	if v := le.Uint32(d[4:]); v != 0 {
		return fmt.Errorf("ndb Index.db: version %d, want 0", v)
	}
	x.generation, x.slotnpages, x.pagesize, x.usergeneration = le.Uint32(d[8:]), le.Uint32(d[12:]), le.Uint32(d[16:]), le.Uint32(d[20:])
	ps := x.pagesize
	if x.slotnpages == 0 || ps == 0 || ps&(ps-1) != 0 || ps < xdbMinPage || ps > xdbMaxPage || x.slotnpages >= xdbMaxSlotPg {
		return fmt.Errorf("ndb Index.db: bad header (page size %d, %d slot pages)", ps, x.slotnpages)
	}
	if uint64(len(d))%uint64(ps) != 0 || uint64(x.slotnpages)*uint64(ps) > uint64(len(d)) {
		return fmt.Errorf("ndb Index.db: size %d does not fit page size %d", len(d), ps)
	}
	nslots := x.slotnpages*(ps/xdbSlotSize) - xdbSlotStart + 1
	slots := make([]xdbSlot, nslots+1)
	var used []uint32
	x.firstfree, x.usedblobpages = 0, 0
	lastfree := &x.firstfree
	slotno := uint32(1)
	for page := uint32(0); page < x.slotnpages; page++ {
		o := uint32(0)
		if page == 0 {
			o = xdbSlotStart * xdbSlotSize
		}
		for ; o < ps; o, slotno = o+xdbSlotSize, slotno+1 {
			b := d[page*ps+o:]
			s := &slots[slotno]
			s.slotno = slotno
			m := le.Uint32(b)
			if m&0x00ffffff != xdbSlotMagic {
				return fmt.Errorf("ndb Index.db: slot %d: bad magic", slotno)
			}
			s.subtag = m >> 24
			s.blobtag, s.startpage, s.pagecnt = le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:])
			if s.pagecnt == 0 && s.startpage != 0 {
				s.startpage = x.slotnpages // empty but used
			}
			if s.startpage == 0 {
				*lastfree = slotno
				lastfree = &s.next
			} else {
				used = append(used, slotno)
				x.usedblobpages += s.pagecnt
			}
		}
	}
	slices.SortStableFunc(used, func(a, b uint32) int {
		sa, sb := slots[a], slots[b]
		if sa.startpage != sb.startpage {
			if sa.startpage > sb.startpage {
				return 1
			}
			return -1
		}
		if sa.pagecnt != sb.pagecnt {
			if sa.pagecnt > sb.pagecnt {
				return 1
			}
			return -1
		}
		return 0
	})
	slots[0].pagecnt = x.slotnpages
	last := uint32(0)
	for _, i := range used {
		if uint64(slots[last].startpage)+uint64(slots[last].pagecnt) > uint64(slots[i].startpage) {
			return errors.New("ndb Index.db: blobs overlap")
		}
		slots[last].next = i
		slots[i].prev = last
		last = i
	}
	slots[last].next = nslots
	slots[nslots].slotno = nslots
	slots[nslots].prev = last
	slots[nslots].startpage = uint32(len(d)) / ps
	if uint64(slots[last].startpage)+uint64(slots[last].pagecnt) > uint64(slots[nslots].startpage) {
		return errors.New("ndb Index.db: blob past the end of the file")
	}
	x.slots, x.nslots = slots, nslots
	return nil
}

func (x *xdb) updateSlot(s *xdbSlot) {
	b := x.data[(xdbSlotStart-1+s.slotno)*xdbSlotSize:]
	le.PutUint32(b, xdbSlotMagic|s.subtag<<24)
	le.PutUint32(b[4:], s.blobtag)
	if s.pagecnt != 0 || s.startpage == 0 {
		le.PutUint32(b[8:], s.startpage)
	} else {
		le.PutUint32(b[8:], 1) // "empty but used" blobs start at 1
	}
	le.PutUint32(b[12:], s.pagecnt)
	x.generation++
	le.PutUint32(x.data[8:], x.generation)
}

func (x *xdb) writeEmptyPages(pageno, count uint32) {
	end := uint64(pageno+count) * uint64(x.pagesize)
	if end > uint64(len(x.data)) {
		x.data = append(x.data, make([]byte, end-uint64(len(x.data)))...)
	}
	clear(x.data[uint64(pageno)*uint64(x.pagesize) : end])
}

// blob returns the bytes of blob id (its pages).
func (x *xdb) blob(id uint32) []byte {
	s := x.slots[id]
	if s.pagecnt == 0 {
		return nil
	}
	return x.data[s.startpage*x.pagesize : (s.startpage+s.pagecnt)*x.pagesize]
}

func (x *xdb) moveBlobTo(old, after uint32, newpagecnt uint32) error {
	o, a := &x.slots[old], &x.slots[after]
	newstart := a.startpage + a.pagecnt
	next := a.next
	if newpagecnt > x.slots[next].startpage-newstart {
		return errors.New("ndb Index.db: no room to move a blob")
	}
	oldpagecnt := o.pagecnt
	tocopy := min(oldpagecnt, newpagecnt)
	if tocopy > 0 {
		src := x.data[o.startpage*x.pagesize : (o.startpage+tocopy)*x.pagesize]
		copy(x.data[newstart*x.pagesize:], src)
	}
	if newpagecnt > oldpagecnt {
		x.writeEmptyPages(newstart+oldpagecnt, newpagecnt-oldpagecnt)
	}
	o.startpage, o.pagecnt = newstart, newpagecnt
	x.updateSlot(o)
	x.usedblobpages = x.usedblobpages - oldpagecnt + newpagecnt
	if after != old && next != old {
		x.slots[o.prev].next = o.next
		x.slots[o.next].prev = o.prev
		o.prev = after
		x.slots[after].next = old
		o.next = next
		x.slots[next].prev = old
	}
	return nil
}

func (x *xdb) moveBlob(old, newpagecnt uint32) error {
	last := uint32(0)
	i := x.slots[0].next
	var free uint32
	for {
		s := x.slots[i]
		free = s.startpage - (x.slots[last].startpage + x.slots[last].pagecnt)
		if free >= newpagecnt || i == x.nslots {
			break
		}
		last, i = i, s.next
	}
	if i == x.nslots && newpagecnt > free {
		tail := &x.slots[x.nslots]
		x.writeEmptyPages(tail.startpage, newpagecnt-free)
		tail.startpage += newpagecnt - free
	}
	return x.moveBlobTo(old, last, newpagecnt)
}

func (x *xdb) moveBlobsToFront(after uint32) error {
	freestart := x.slots[after].startpage + x.slots[after].pagecnt
	freecount := x.slots[x.slots[after].next].startpage - freestart
	var s1, s2 uint32
	s1 = x.slots[x.nslots].prev
	if s1 != 0 {
		s2 = x.slots[s1].prev
	}
	if s1 != 0 && s2 != 0 && x.slots[s1].pagecnt < x.slots[s2].pagecnt {
		s1, s2 = s2, s1
	}
	if s1 != 0 && x.slots[s1].pagecnt != 0 && x.slots[s1].pagecnt <= freecount && x.slots[s1].startpage > freestart {
		if err := x.moveBlobTo(s1, after, x.slots[s1].pagecnt); err != nil {
			return err
		}
		freestart += x.slots[s1].pagecnt
		freecount -= x.slots[s1].pagecnt
		after = s1
	}
	if s2 != 0 && x.slots[s2].pagecnt != 0 && x.slots[s2].pagecnt <= freecount && x.slots[s2].startpage > freestart {
		return x.moveBlobTo(s2, after, x.slots[s2].pagecnt)
	}
	return nil
}

func (x *xdb) createBlob(tag, subtag uint32) (uint32, error) {
	if x.firstfree == 0 {
		return 0, errors.New("ndb Index.db: no free slot (a second slot page is not supported)")
	}
	id := x.firstfree
	s := &x.slots[id]
	x.firstfree = s.next
	s.blobtag, s.subtag, s.startpage, s.pagecnt = tag, subtag, x.slotnpages, 0
	x.updateSlot(s)
	s.prev = 0
	s.next = x.slots[0].next
	x.slots[s.next].prev = id
	x.slots[0].next = id
	return id, nil
}

// lookup returns the blob of (tag, subtag), 0 if there is none.
func (x *xdb) lookup(tag, subtag uint32) uint32 {
	for i := x.slots[0].next; i != x.nslots; i = x.slots[i].next {
		if x.slots[i].blobtag == tag && x.slots[i].subtag == subtag {
			return i
		}
	}
	return 0
}

// lookupCreate is rpmxdbLookupBlob with O_CREAT (and O_TRUNC).
func (x *xdb) lookupCreate(tag, subtag uint32, trunc bool) (uint32, error) {
	id := x.lookup(tag, subtag)
	if id != 0 && trunc {
		if err := x.resize(id, 0); err != nil {
			return 0, err
		}
	}
	if id == 0 {
		return x.createBlob(tag, subtag)
	}
	return id, nil
}

func (x *xdb) del(id uint32) error {
	if id == 0 || id >= x.nslots {
		return errors.New("ndb Index.db: bad blob id")
	}
	s := x.slots[id]
	if s.startpage == 0 {
		return nil
	}
	x.slots[s.prev].next = s.next
	x.slots[s.next].prev = s.prev
	x.usedblobpages -= s.pagecnt
	tailStart := x.slots[x.nslots].startpage
	if x.usedblobpages*2 < tailStart && (s.startpage+s.pagecnt)*2 < tailStart {
		if err := x.moveBlobsToFront(s.prev); err != nil {
			return err
		}
	}
	x.slots[id] = xdbSlot{slotno: id}
	x.updateSlot(&x.slots[id])
	x.slots[id].next = x.firstfree
	x.firstfree = id
	last := x.slots[x.slots[x.nslots].prev]
	if end := last.startpage + last.pagecnt; end < x.slots[x.nslots].startpage/4*3 {
		x.data = x.data[:end*x.pagesize]
		x.slots[x.nslots].startpage = end
	}
	return nil
}

// delAll empties the database (rpmxdbDelAllBlobs).
func (x *xdb) delAll() error {
	x.generation++
	x.slotnpages = 1
	x.data = x.data[:x.pagesize]
	x.writeEmptySlotPage(0)
	x.writeHeader()
	return x.readHeader()
}

func (x *xdb) resize(id uint32, newsize uint64) error {
	if id == 0 || id >= x.nslots || x.slots[id].startpage == 0 {
		return errors.New("ndb Index.db: bad blob id")
	}
	s := &x.slots[id]
	ps := uint64(x.pagesize)
	oldpagecnt := s.pagecnt
	newpagecnt64 := (newsize + ps - 1) / ps
	if newpagecnt64 > 0xffffffff {
		return errors.New("ndb Index.db: blob too large")
	}
	newpagecnt := uint32(newpagecnt64)
	if oldpagecnt != 0 && newpagecnt != 0 && newpagecnt <= oldpagecnt {
		if pg := newsize & (ps - 1); pg != 0 {
			off := uint64(s.startpage+newpagecnt-1)*ps + pg
			clear(x.data[off : off+ps-pg])
		}
	}
	switch {
	case newpagecnt == oldpagecnt:
		return nil
	case newpagecnt == 0:
		s.pagecnt = 0
		s.startpage = x.slotnpages
		x.slots[s.prev].next = s.next
		x.slots[s.next].prev = s.prev
		s.prev = 0
		s.next = x.slots[0].next
		x.slots[s.next].prev = id
		x.slots[0].next = id
		x.updateSlot(s)
		x.usedblobpages -= oldpagecnt
	case newpagecnt <= x.slots[s.next].startpage-s.startpage:
		if newpagecnt > oldpagecnt {
			x.writeEmptyPages(s.startpage+oldpagecnt, newpagecnt-oldpagecnt)
		}
		s.pagecnt = newpagecnt
		x.updateSlot(s)
		x.usedblobpages = x.usedblobpages - oldpagecnt + newpagecnt
	default:
		return x.moveBlob(id, newpagecnt)
	}
	return nil
}

// rename gives blob *id the name (tag, subtag), replacing a blob of that
// name (rpmxdbRenameBlob); *id becomes the replaced blob's slot.
func (x *xdb) rename(id *uint32, tag, subtag uint32) error {
	s := &x.slots[*id]
	if s.startpage == 0 {
		return errors.New("ndb Index.db: rename of a free slot")
	}
	if s.blobtag == tag && s.subtag == subtag {
		return nil
	}
	other := x.lookup(tag, subtag)
	if other == 0 {
		s.blobtag, s.subtag = tag, subtag
		x.updateSlot(s)
		return nil
	}
	if err := x.del(other); err != nil {
		return err
	}
	if x.firstfree != other {
		return errors.New("ndb Index.db: slot bookkeeping")
	}
	x.firstfree = x.slots[other].next
	s = &x.slots[*id]
	s.blobtag, s.subtag = tag, subtag
	x.slots[other] = *s
	x.slots[other].slotno = other
	x.slots[s.prev].next = other
	x.slots[s.next].prev = other
	x.updateSlot(&x.slots[other])
	x.slots[*id] = xdbSlot{slotno: *id}
	x.updateSlot(&x.slots[*id])
	x.slots[*id].next = x.firstfree
	x.firstfree = *id
	*id = other
	return nil
}

func (x *xdb) setUserGeneration(g uint32) {
	x.usergeneration = g
	x.generation++
	x.writeHeader()
}
