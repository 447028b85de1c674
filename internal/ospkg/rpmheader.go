package ospkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// RPM header tags and types read here (rpm's lib/rpmtag.h).
const (
	rpmTagName            = 1000
	rpmTagVersion         = 1001
	rpmTagRelease         = 1002
	rpmTagEpoch           = 1003
	rpmTagVendor          = 1011
	rpmTagArch            = 1022
	rpmTagSourceRPM       = 1044
	rpmTagModularityLabel = 5096

	rpmTypeInt32       = 4
	rpmTypeString      = 6
	rpmTypeStringArray = 8
	rpmTypeI18NString  = 9

	rpmMaxIndexEntries = 0xffff    // rpm's own limit on tags per header
	rpmMaxDataLen      = 256 << 20 // rpm's own limit on a header's data
)

// rpmHeader holds the tags of an installed package header that Inspect uses.
type rpmHeader struct {
	name, version, release, arch, sourceRPM, modularityLabel, vendor string
	epoch                                                            int
}

// parseRPMHeader reads a header blob as the rpm databases store it: two
// big-endian counts (index entries, data bytes), the index entries of 16
// bytes (tag, type, offset, count) and the data store. Every offset is
// checked against the blob.
func parseRPMHeader(blob []byte) (rpmHeader, error) {
	var h rpmHeader
	if len(blob) < 8 {
		return h, errors.New("header blob shorter than 8 bytes")
	}
	il, dl := binary.BigEndian.Uint32(blob), binary.BigEndian.Uint32(blob[4:])
	if il == 0 || il > rpmMaxIndexEntries || dl > rpmMaxDataLen {
		return h, fmt.Errorf("header claims %d tags and %d data bytes", il, dl)
	}
	dataStart := 8 + uint64(il)*16
	if dataStart+uint64(dl) > uint64(len(blob)) {
		return h, fmt.Errorf("header of %d tags and %d data bytes is truncated at %d bytes", il, dl, len(blob))
	}
	index, data := blob[8:dataStart], blob[dataStart:dataStart+uint64(dl)]
	for i := range uint64(il) {
		e := index[i*16 : i*16+16]
		tag, typ := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:])
		off, cnt := binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:])
		var dst *string
		switch tag {
		case rpmTagName:
			dst = &h.name
		case rpmTagVersion:
			dst = &h.version
		case rpmTagRelease:
			dst = &h.release
		case rpmTagArch:
			dst = &h.arch
		case rpmTagSourceRPM:
			dst = &h.sourceRPM
		case rpmTagModularityLabel:
			dst = &h.modularityLabel
		case rpmTagVendor:
			dst = &h.vendor
		case rpmTagEpoch:
			if typ != rpmTypeInt32 || cnt == 0 || uint64(off)+4 > uint64(len(data)) {
				return h, fmt.Errorf("tag %d: bad epoch entry", tag)
			}
			h.epoch = int(int32(binary.BigEndian.Uint32(data[off:])))
			continue
		default:
			continue
		}
		s, err := rpmString(data, typ, off)
		if err != nil && h.name != "" {
			return h, fmt.Errorf("package %s: tag %d: %w", h.name, tag, err)
		}
		if err != nil {
			return h, fmt.Errorf("tag %d: %w", tag, err)
		}
		*dst = s
	}
	if h.name == "" {
		return h, errors.New("header has no NAME tag")
	}
	return h, nil
}

// rpmString reads the NUL-terminated string at off in the data store; a
// string over MaxIdentitySize is an error.
func rpmString(data []byte, typ, off uint32) (string, error) {
	if typ != rpmTypeString && typ != rpmTypeI18NString && typ != rpmTypeStringArray {
		return "", fmt.Errorf("type %d is not a string", typ)
	}
	if uint64(off) >= uint64(len(data)) {
		return "", fmt.Errorf("offset %d outside %d data bytes", off, len(data))
	}
	s := data[off:]
	end := bytes.IndexByte(s[:min(len(s), MaxIdentitySize+1)], 0)
	if end < 0 && len(s) > MaxIdentitySize {
		n := bytes.IndexByte(s, 0)
		if n < 0 {
			n = len(s)
		}
		return "", tooLarge(fmt.Sprintf("string at offset %d", off), n, MaxIdentitySize)
	}
	if end < 0 {
		return "", fmt.Errorf("string at offset %d is not terminated", off)
	}
	return string(data[off : off+uint32(end)]), nil
}
