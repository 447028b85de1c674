package ospkg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// Layout of rpm's NDB database (Packages.db, used by SUSE): a header and
// slot pages of 16-byte slots, each pointing at a blob stored in 16-byte
// blocks, the blob starting with a 16-byte blob header.
const (
	ndbMagic     = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbPageSize  = 4096
	ndbSlotSize  = 16
	ndbBlockSize = 16
	ndbHeadSize  = 32 // the database header takes the first two slots
)

// readNDB returns the header blobs of an NDB Packages.db.
func readNDB(ctx context.Context, data []byte) ([][]byte, error) {
	return collect(ctx, data, eachNDBBlob)
}

// eachNDBBlob calls fn with each header blob of an NDB Packages.db.
func eachNDBBlob(ctx context.Context, data []byte, fn func([]byte) error) error {
	if len(data) < ndbHeadSize || binary.LittleEndian.Uint32(data) != ndbMagic {
		return errors.New("not an NDB database")
	}
	if v := binary.LittleEndian.Uint32(data[4:]); v != 0 {
		return fmt.Errorf("NDB version %d is not supported", v)
	}
	slotPages := uint64(binary.LittleEndian.Uint32(data[12:]))
	slotsEnd := slotPages * ndbPageSize
	if slotPages == 0 || slotsEnd > uint64(len(data)) {
		return fmt.Errorf("NDB claims %d slot pages in %d bytes", slotPages, len(data))
	}
	for off := uint64(ndbHeadSize); off+ndbSlotSize <= slotsEnd; off += ndbSlotSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := data[off : off+ndbSlotSize]
		if binary.LittleEndian.Uint32(s) != ndbSlotMagic {
			return fmt.Errorf("NDB slot at offset %d: bad magic", off)
		}
		pkgIdx := binary.LittleEndian.Uint32(s[4:])
		if pkgIdx == 0 {
			continue // free slot
		}
		start := uint64(binary.LittleEndian.Uint32(s[8:])) * ndbBlockSize
		room := uint64(binary.LittleEndian.Uint32(s[12:])) * ndbBlockSize
		if start+ndbBlockSize > uint64(len(data)) {
			return fmt.Errorf("NDB package %d: blob at offset %d is outside the file", pkgIdx, start)
		}
		bh := data[start : start+ndbBlockSize]
		if binary.LittleEndian.Uint32(bh) != ndbBlobMagic || binary.LittleEndian.Uint32(bh[4:]) != pkgIdx {
			return fmt.Errorf("NDB package %d: bad blob header at offset %d", pkgIdx, start)
		}
		n := uint64(binary.LittleEndian.Uint32(bh[12:]))
		end := start + ndbBlockSize + n
		if end > uint64(len(data)) || ndbBlockSize+n > room {
			return fmt.Errorf("NDB package %d: blob of %d bytes overflows its blocks", pkgIdx, n)
		}
		if err := fn(data[start+ndbBlockSize : end]); err != nil {
			return err
		}
	}
	return nil
}
