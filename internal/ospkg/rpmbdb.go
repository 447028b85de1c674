package ospkg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// Berkeley DB hash database layout (libdb's dbinc/db_page.h), as used by
// rpm's classic var/lib/rpm/Packages.
const (
	bdbHashMagic   = 0x061561
	bdbHeaderSize  = 26 // generic page header
	bdbPageHashU   = 2  // P_HASH_UNSORTED
	bdbPageOverflw = 7  // P_OVERFLOW
	bdbPageHashMD  = 8  // P_HASHMETA
	bdbPageHash    = 13 // P_HASH
	bdbItemKeyData = 1  // H_KEYDATA
	bdbItemOffPage = 3  // H_OFFPAGE
)

// isBDB reports whether data starts with a Berkeley DB hash meta page.
func isBDB(data []byte) bool {
	_, ok := bdbByteOrder(data)
	return ok
}

// bdbByteOrder finds the byte order of a hash database from its magic.
func bdbByteOrder(data []byte) (binary.ByteOrder, bool) {
	if len(data) < 512 {
		return nil, false
	}
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		if bo.Uint32(data[12:]) == bdbHashMagic && data[25] == bdbPageHashMD {
			return bo, true
		}
	}
	return nil, false
}

// readBDB returns the values of a Berkeley DB hash database, which for
// rpm's Packages are the header blobs (the record with key 0, rpm's
// bookkeeping, is skipped).
func readBDB(ctx context.Context, data []byte) ([][]byte, error) {
	return collect(ctx, data, eachBDBBlob)
}

// eachBDBBlob calls fn with each value of a Berkeley DB hash database, as
// readBDB returns them. Values stored on overflow pages are copied, one at
// a time.
func eachBDBBlob(ctx context.Context, data []byte, fn func([]byte) error) error {
	bo, ok := bdbByteOrder(data)
	if !ok {
		return errors.New("not a Berkeley DB hash database")
	}
	pageSize := uint64(bo.Uint32(data[20:]))
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("invalid Berkeley DB page size %d", pageSize)
	}
	if data[24] != 0 {
		return errors.New("encrypted Berkeley DB is not supported")
	}
	lastPage := uint64(bo.Uint32(data[32:]))
	if (lastPage+1)*pageSize > uint64(len(data)) {
		return fmt.Errorf("truncated Berkeley DB: %d pages of %d bytes claimed, %d bytes present", lastPage+1, pageSize, len(data))
	}
	db := bdb{data: data, bo: bo, pageSize: pageSize, pages: lastPage + 1}
	for pg := uint64(1); pg <= lastPage; pg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		page := db.page(pg)
		if t := page[25]; t != bdbPageHash && t != bdbPageHashU {
			continue
		}
		if err := db.hashValues(page, fn); err != nil {
			return fmt.Errorf("page %d of the Berkeley DB: %w", pg, err)
		}
	}
	return nil
}

// bdb is an in-memory Berkeley DB hash database.
type bdb struct {
	data     []byte
	bo       binary.ByteOrder
	pageSize uint64
	pages    uint64
}

func (db *bdb) page(pg uint64) []byte { return db.data[pg*db.pageSize : (pg+1)*db.pageSize] }

// hashValues calls fn with the values of the key/value pairs on a hash page.
func (db *bdb) hashValues(page []byte, fn func([]byte) error) error {
	n := uint64(db.bo.Uint16(page[20:]))
	if n%2 != 0 || bdbHeaderSize+2*n > db.pageSize {
		return fmt.Errorf("bad entry count %d", n)
	}
	offset := func(i uint64) uint64 { return uint64(db.bo.Uint16(page[bdbHeaderSize+2*i:])) }
	for i := uint64(0); i < n; i += 2 {
		kOff, vOff := offset(i), offset(i+1)
		// Items fill the page from its end: an item ends where the one
		// before it in the index starts.
		kEnd := db.pageSize
		if i > 0 {
			kEnd = offset(i - 1)
		}
		if kOff >= kEnd || vOff >= kOff || kEnd > db.pageSize {
			return fmt.Errorf("entry %d: bad item offsets", i/2)
		}
		key, item := page[kOff:kEnd], page[vOff:kOff]
		if key[0] == bdbItemKeyData && len(key) == 5 && db.bo.Uint32(key[1:]) == 0 {
			continue // rpm's record 0
		}
		switch item[0] {
		case bdbItemKeyData:
			if err := fn(item[1:]); err != nil {
				return err
			}
		case bdbItemOffPage:
			if len(item) < 12 {
				return fmt.Errorf("entry %d: short off-page item", i/2)
			}
			v, err := db.overflow(uint64(db.bo.Uint32(item[4:])), uint64(db.bo.Uint32(item[8:])))
			if err != nil {
				return fmt.Errorf("entry %d: %w", i/2, err)
			}
			if err := fn(v); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %d: unsupported item type %d", i/2, item[0])
		}
	}
	return nil
}

// overflow reads a value of total bytes stored on a chain of overflow pages.
func (db *bdb) overflow(pg, total uint64) ([]byte, error) {
	if total > MaxRPMHeaderSize {
		return nil, tooLarge("value", int(total), MaxRPMHeaderSize)
	}
	if total > uint64(len(db.data)) {
		return nil, fmt.Errorf("value claims %d bytes, more than the %d-byte file", total, len(db.data))
	}
	out := make([]byte, 0, total)
	for hops := uint64(0); pg != 0; hops++ {
		if pg >= db.pages || hops >= db.pages {
			return nil, fmt.Errorf("overflow chain leaves the file or loops at page %d", pg)
		}
		page := db.page(pg)
		n := uint64(db.bo.Uint16(page[22:])) // bytes used on an overflow page
		if page[25] != bdbPageOverflw || bdbHeaderSize+n > db.pageSize || uint64(len(out))+n > total {
			return nil, fmt.Errorf("bad overflow page %d", pg)
		}
		out = append(out, page[bdbHeaderSize:bdbHeaderSize+n]...)
		pg = uint64(db.bo.Uint32(page[16:]))
	}
	if uint64(len(out)) != total {
		return nil, fmt.Errorf("value has %d of its %d bytes", len(out), total)
	}
	return out, nil
}
