// Package rpm reads and writes rpm's formats: headers (this file and
// tags.go), package files, signatures, payloads and rpm-md repositories.
package rpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Limits rpm itself puts on headers (lib/header.cc).
const (
	// MaxTags caps the entries of a header.
	MaxTags = 0xffff
	// MaxData caps a header's data store.
	MaxData = 0x0fffffff
	// MaxArray caps the element count of a non-binary entry.
	MaxArray = 0x000fffff
	// MaxSigTags and MaxSigData cap a package's signature header.
	MaxSigTags = 32
	MaxSigData = 64 << 20
)

// Magic starts every header in a package file: 8e ad e8, version 01 and four
// reserved zero bytes.
var Magic = [8]byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}

// entryInfoSize is the size of one index entry and of a region trailer.
const entryInfoSize = 16

// ErrNoTag is wrapped by the accessors when the header has no such tag.
var ErrNoTag = errors.New("tag not in header")

// Entry is one header entry. Data holds the value's bytes as stored:
// integers big-endian, strings NUL-terminated one after the other.
type Entry struct {
	Tag   Tag
	Type  TagType
	Count uint32
	Data  []byte
}

// Header is an rpm header: ordered entries and, when it has one, an
// immutable region (the part of a package's header its signatures cover).
// A region read from a blob or a package is kept byte for byte; entries set
// later live outside it and are encoded after it, as rpm does.
type Header struct {
	region Tag // 0, or the region's tag (TagHeaderImmutable, TagHeaderSignatures, TagHeaderImage)

	// regionIndex and regionData are the region's raw index entries (the
	// region entry first) and data (ending with the trailer), kept when
	// the header was parsed; nil for a header built with NewHeader.
	regionIndex []byte
	regionData  []byte
	inRegion    []Entry // the region's entries, decoded, in index order

	// outside holds the entries outside the region in encoding order:
	// those parsed from a blob after its region first, then those Set
	// added (encoded sorted by tag, as rpm does).
	outside []Entry
	parsed  int // how many of outside came from the parsed blob
}

// NewHeader returns an empty header. region is TagHeaderImmutable for a
// package's main header, TagHeaderSignatures for a signature header, or 0 for
// a header without region; Marshal and Blob then put every entry inside the
// region and write its trailer.
func NewHeader(region Tag) *Header { return &Header{region: region} }

// Region returns the tag of the header's immutable region, 0 without one.
func (h *Header) Region() Tag { return h.region }

// Entries returns every entry, the region's first, in the order Blob encodes
// them. An entry Set over a region entry appears twice, the region's copy
// first.
func (h *Header) Entries() []Entry {
	out := slices.Clone(h.inRegion)
	out = append(out, h.outside[:h.parsed]...)
	return append(out, sortedByTag(h.outside[h.parsed:])...)
}

// Get returns the entry of tag t. An entry outside the region overrides one
// inside it, as rpm reads them.
func (h *Header) Get(t Tag) (Entry, bool) {
	for _, e := range h.outside {
		if e.Tag == t {
			return e, true
		}
	}
	for _, e := range h.inRegion {
		if e.Tag == t {
			return e, true
		}
	}
	return Entry{}, false
}

// Has reports whether the header has tag t.
func (h *Header) Has(t Tag) bool { _, ok := h.Get(t); return ok }

// Set adds e, or replaces the entry of the same tag outside the region. An
// entry inside the region is never changed: the new one is added outside
// it and overrides it (rpm's headerMod does the same). For a header from
// NewHeader with a region, entries Set before Marshal all form the region.
//
// An entry that was outside the region in a parsed blob is replaced where it
// stands, as rpm rewrites an installed header (FILESTATES of replaced
// files).
func (h *Header) Set(e Entry) {
	e.Data = slices.Clone(e.Data)
	for i := range h.outside {
		if h.outside[i].Tag == e.Tag {
			h.outside[i] = e
			return
		}
	}
	h.outside = append(h.outside, e)
}

// Delete removes the entry of tag t outside the region and reports whether
// there was one. Region entries cannot be removed.
func (h *Header) Delete(t Tag) bool {
	for i := range h.outside {
		if h.outside[i].Tag == t {
			h.outside = slices.Delete(h.outside, i, i+1)
			if i < h.parsed {
				h.parsed--
			}
			return true
		}
	}
	return false
}

// String returns the value of a string or the first of an i18n string tag.
func (h *Header) String(t Tag) (string, error) {
	e, ok := h.Get(t)
	if !ok {
		return "", fmt.Errorf("tag %d: %w", t, ErrNoTag)
	}
	if e.Type != TypeString && e.Type != TypeI18NString {
		return "", fmt.Errorf("tag %d: %s is not a string", t, e.Type)
	}
	ss, err := splitStrings(e.Data, 1)
	if err != nil {
		return "", fmt.Errorf("tag %d: %w", t, err)
	}
	return ss[0], nil
}

// Strings returns the values of a string array, i18n string or string tag.
func (h *Header) Strings(t Tag) ([]string, error) {
	e, ok := h.Get(t)
	if !ok {
		return nil, fmt.Errorf("tag %d: %w", t, ErrNoTag)
	}
	if !e.Type.isString() {
		return nil, fmt.Errorf("tag %d: %s is not a string type", t, e.Type)
	}
	ss, err := splitStrings(e.Data, e.Count)
	if err != nil {
		return nil, fmt.Errorf("tag %d: %w", t, err)
	}
	return ss, nil
}

// fixed returns the data of tag t after checking its type and length.
func (h *Header) fixed(t Tag, want TagType) (Entry, error) {
	e, ok := h.Get(t)
	if !ok {
		return e, fmt.Errorf("tag %d: %w", t, ErrNoTag)
	}
	if e.Type != want {
		return e, fmt.Errorf("tag %d: %s, want %s", t, e.Type, want)
	}
	if uint64(len(e.Data)) != uint64(e.Count)*uint64(want.size()) {
		return e, fmt.Errorf("tag %d: %d bytes for %d %s values", t, len(e.Data), e.Count, want)
	}
	return e, nil
}

// Int32s returns the values of an int32 tag.
func (h *Header) Int32s(t Tag) ([]int32, error) {
	e, err := h.fixed(t, TypeInt32)
	if err != nil {
		return nil, err
	}
	out := make([]int32, e.Count)
	for i := range out {
		out[i] = int32(binary.BigEndian.Uint32(e.Data[4*i:]))
	}
	return out, nil
}

// Int16s returns the values of an int16 tag.
func (h *Header) Int16s(t Tag) ([]int16, error) {
	e, err := h.fixed(t, TypeInt16)
	if err != nil {
		return nil, err
	}
	out := make([]int16, e.Count)
	for i := range out {
		out[i] = int16(binary.BigEndian.Uint16(e.Data[2*i:]))
	}
	return out, nil
}

// Int64s returns the values of an int64 tag.
func (h *Header) Int64s(t Tag) ([]int64, error) {
	e, err := h.fixed(t, TypeInt64)
	if err != nil {
		return nil, err
	}
	out := make([]int64, e.Count)
	for i := range out {
		out[i] = int64(binary.BigEndian.Uint64(e.Data[8*i:]))
	}
	return out, nil
}

// Int returns the first value of an int32 tag, or of an int64 or int16 tag,
// as int64.
func (h *Header) Int(t Tag) (int64, error) {
	e, ok := h.Get(t)
	if !ok {
		return 0, fmt.Errorf("tag %d: %w", t, ErrNoTag)
	}
	switch e.Type {
	case TypeInt64:
		v, err := h.Int64s(t)
		if err != nil || len(v) == 0 {
			return 0, fmt.Errorf("tag %d: no value: %w", t, err)
		}
		return v[0], nil
	case TypeInt16:
		v, err := h.Int16s(t)
		if err != nil || len(v) == 0 {
			return 0, fmt.Errorf("tag %d: no value: %w", t, err)
		}
		return int64(v[0]), nil
	}
	v, err := h.Int32s(t)
	if err != nil {
		return 0, err
	}
	if len(v) == 0 {
		return 0, fmt.Errorf("tag %d: no value", t)
	}
	return int64(v[0]), nil
}

// Bytes returns the data of a binary, char or int8 tag.
func (h *Header) Bytes(t Tag) ([]byte, error) {
	e, ok := h.Get(t)
	if !ok {
		return nil, fmt.Errorf("tag %d: %w", t, ErrNoTag)
	}
	if e.Type != TypeBin && e.Type != TypeChar && e.Type != TypeInt8 {
		return nil, fmt.Errorf("tag %d: %s is not binary", t, e.Type)
	}
	return slices.Clone(e.Data), nil
}

// splitStrings splits n NUL-terminated strings.
func splitStrings(data []byte, n uint32) ([]string, error) {
	out := make([]string, 0, min(n, 1<<16))
	for range n {
		end := bytes.IndexByte(data, 0)
		if end < 0 {
			return nil, errors.New("string not terminated")
		}
		out = append(out, string(data[:end]))
		data = data[end+1:]
	}
	return out, nil
}

// StringEntry returns a string entry.
func StringEntry(t Tag, s string) Entry {
	return Entry{Tag: t, Type: TypeString, Count: 1, Data: append([]byte(s), 0)}
}

// StringsEntry returns a string array entry.
func StringsEntry(t Tag, ss []string) Entry {
	return Entry{Tag: t, Type: TypeStringArray, Count: uint32(len(ss)), Data: joinStrings(ss)}
}

// I18NEntry returns an i18n string entry, one string per locale of the
// header's TagHeaderI18NTable (usually just "C").
func I18NEntry(t Tag, ss ...string) Entry {
	return Entry{Tag: t, Type: TypeI18NString, Count: uint32(len(ss)), Data: joinStrings(ss)}
}

func joinStrings(ss []string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(append(b, s...), 0)
	}
	return b
}

// Int32Entry returns an int32 (array) entry.
func Int32Entry(t Tag, v ...int32) Entry {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint32(b[4*i:], uint32(x))
	}
	return Entry{Tag: t, Type: TypeInt32, Count: uint32(len(v)), Data: b}
}

// Int16Entry returns an int16 (array) entry.
func Int16Entry(t Tag, v ...int16) Entry {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint16(b[2*i:], uint16(x))
	}
	return Entry{Tag: t, Type: TypeInt16, Count: uint32(len(v)), Data: b}
}

// Int64Entry returns an int64 (array) entry.
func Int64Entry(t Tag, v ...int64) Entry {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint64(b[8*i:], uint64(x))
	}
	return Entry{Tag: t, Type: TypeInt64, Count: uint32(len(v)), Data: b}
}

// BinEntry returns a binary entry.
func BinEntry(t Tag, b []byte) Entry {
	return Entry{Tag: t, Type: TypeBin, Count: uint32(len(b)), Data: slices.Clone(b)}
}

// CharEntry returns a char array entry (as TagFileStates).
func CharEntry(t Tag, b ...byte) Entry {
	return Entry{Tag: t, Type: TypeChar, Count: uint32(len(b)), Data: slices.Clone(b)}
}

// Int8Entry returns an int8 array entry.
func Int8Entry(t Tag, b ...byte) Entry {
	return Entry{Tag: t, Type: TypeInt8, Count: uint32(len(b)), Data: slices.Clone(b)}
}

// ParseBlob parses a header as the rpm databases store it: the entry count
// and data length (big-endian uint32 each), the index entries and the data
// store, without magic. Every count, offset, length and alignment is
// checked as rpm checks them; the region is kept byte for byte.
func ParseBlob(blob []byte) (*Header, error) {
	return parse(blob, MaxTags, MaxData, false)
}

// ReadHeader reads a header with its 8-byte magic, as it appears in a
// package file, and returns it with the bytes read (magic included, padding
// excluded). pad is true for a signature header: the signature header's
// limits apply and the padding that aligns the next header to 8 bytes is
// read and dropped. As in rpm, a header from a package must be its region
// exactly.
func ReadHeader(r io.Reader, pad bool) (*Header, []byte, error) {
	var intro [16]byte
	if _, err := io.ReadFull(r, intro[:]); err != nil {
		return nil, nil, fmt.Errorf("read header intro: %w", err)
	}
	if !bytes.Equal(intro[:8], Magic[:]) {
		return nil, nil, fmt.Errorf("header magic %x, want %x", intro[:8], Magic)
	}
	maxTags, maxData := uint32(MaxTags), uint32(MaxData)
	if pad {
		maxTags, maxData = MaxSigTags, MaxSigData
	}
	il, dl := binary.BigEndian.Uint32(intro[8:]), binary.BigEndian.Uint32(intro[12:])
	if il > maxTags || dl > maxData {
		return nil, nil, fmt.Errorf("header claims %d tags and %d data bytes (at most %d and %d)", il, dl, maxTags, maxData)
	}
	raw := make([]byte, 16+int(il)*entryInfoSize+int(dl))
	copy(raw, intro[:])
	if _, err := io.ReadFull(r, raw[16:]); err != nil {
		return nil, nil, fmt.Errorf("read header of %d tags and %d data bytes: %w", il, dl, err)
	}
	h, err := parse(raw[8:], maxTags, maxData, true)
	if err != nil {
		return nil, nil, err
	}
	if want := TagHeaderImmutable; pad && h.region != 0 && h.region != TagHeaderSignatures || !pad && h.region != 0 && h.region != want {
		return nil, nil, fmt.Errorf("header region tag %d where a %s header is expected", h.region, map[bool]string{true: "signature", false: "main"}[pad])
	}
	if pad {
		if n := (8 - len(raw)%8) % 8; n > 0 {
			if _, err := io.ReadFull(r, make([]byte, n)); err != nil {
				return nil, nil, fmt.Errorf("read signature header padding: %w", err)
			}
		}
	}
	return h, raw, nil
}

// PadLen returns how many zero bytes follow a signature header of n bytes
// (magic included) in a package file.
func PadLen(n int) int { return (8 - n%8) % 8 }

// info is one decoded index entry.
type info struct {
	tag    Tag
	typ    TagType
	offset int32
	count  uint32
}

func readInfo(b []byte) info {
	return info{
		tag:    Tag(binary.BigEndian.Uint32(b)),
		typ:    TagType(binary.BigEndian.Uint32(b[4:])),
		offset: int32(binary.BigEndian.Uint32(b[8:])),
		count:  binary.BigEndian.Uint32(b[12:]),
	}
}

func putInfo(b []byte, i info) {
	binary.BigEndian.PutUint32(b, uint32(i.tag))
	binary.BigEndian.PutUint32(b[4:], uint32(i.typ))
	binary.BigEndian.PutUint32(b[8:], uint32(i.offset))
	binary.BigEndian.PutUint32(b[12:], i.count)
}

func isRegionTag(t Tag) bool { return t >= TagHeaderImage && t < TagHeaderRegions }

// parse decodes blob (il, dl, index, data). exact requires the header to be
// its region, as in package files.
func parse(blob []byte, maxTags, maxData uint32, exact bool) (*Header, error) {
	if len(blob) < 8 {
		return nil, fmt.Errorf("header of %d bytes is shorter than 8", len(blob))
	}
	il, dl := binary.BigEndian.Uint32(blob), binary.BigEndian.Uint32(blob[4:])
	if il == 0 || il > maxTags || dl > maxData {
		return nil, fmt.Errorf("header claims %d tags and %d data bytes (1..%d tags, at most %d bytes)", il, dl, maxTags, maxData)
	}
	if want := 8 + uint64(il)*entryInfoSize + uint64(dl); uint64(len(blob)) != want {
		return nil, fmt.Errorf("header of %d tags and %d data bytes needs %d bytes, has %d", il, dl, want, len(blob))
	}
	index := blob[8 : 8+int(il)*entryInfoSize]
	data := blob[8+int(il)*entryInfoSize:]
	h := &Header{}

	// The region: its entry first, its trailer at the end of its data.
	first := readInfo(index)
	ril, rdl := uint32(0), uint32(0)
	if isRegionTag(first.tag) {
		if first.typ != TypeBin || first.count != entryInfoSize {
			return nil, fmt.Errorf("region tag %d: type %d count %d, want bin of 16", first.tag, first.typ, first.count)
		}
		if first.offset < 0 || uint64(first.offset)+entryInfoSize > uint64(dl) {
			return nil, fmt.Errorf("region tag %d: trailer offset %d outside %d data bytes", first.tag, first.offset, dl)
		}
		tr := readInfo(data[first.offset:])
		if first.tag == TagHeaderSignatures && tr.tag == TagHeaderImage {
			tr.tag = TagHeaderSignatures // old packages, as rpm accepts
		}
		if tr.tag != first.tag || tr.typ != TypeBin || tr.count != entryInfoSize || tr.offset > 0 {
			return nil, fmt.Errorf("region tag %d: bad trailer (tag %d type %d offset %d count %d)", first.tag, tr.tag, tr.typ, tr.offset, tr.count)
		}
		riBytes := -int64(tr.offset)
		ril, rdl = uint32(riBytes/entryInfoSize), uint32(first.offset)+entryInfoSize
		if riBytes%entryInfoSize != 0 || ril == 0 || ril > il {
			return nil, fmt.Errorf("region tag %d: trailer claims %d index bytes of %d tags", first.tag, riBytes, il)
		}
		if exact && (ril != il || rdl != dl) {
			return nil, fmt.Errorf("region tag %d covers %d of %d tags and %d of %d data bytes; a package header must be its region", first.tag, ril, il, rdl, dl)
		}
		h.region = first.tag
	}

	// Every other entry, as rpm's hdrblobVerifyInfo checks them.
	start := uint32(0)
	if h.region != 0 {
		start = 1
	}
	end := uint32(0)
	for i := start; i < il; i++ {
		in := readInfo(index[i*entryInfoSize:])
		e, err := checkEntry(in, data, end)
		if err != nil {
			return nil, fmt.Errorf("header entry %d: %w", i, err)
		}
		end = uint32(in.offset) + uint32(len(e.Data))
		if h.region != 0 && end > rdl-entryInfoSize && uint32(in.offset) < rdl {
			return nil, fmt.Errorf("header entry %d (tag %d) overlaps the region trailer", i, in.tag)
		}
		if i < ril {
			h.inRegion = append(h.inRegion, e)
		} else {
			h.outside = append(h.outside, e)
		}
	}
	h.parsed = len(h.outside)
	if h.region != 0 {
		h.regionIndex = slices.Clone(index[:ril*entryInfoSize])
		h.regionData = slices.Clone(data[:rdl])
	}
	return h, nil
}

// checkEntry checks one index entry against the data store; prevEnd is where
// the previous entry's data ended.
func checkEntry(in info, data []byte, prevEnd uint32) (Entry, error) {
	dl := uint32(len(data))
	switch {
	case in.tag < TagHeaderI18NTable:
		return Entry{}, fmt.Errorf("tag %d is reserved", in.tag)
	case in.typ < TypeChar || in.typ > TypeI18NString:
		return Entry{}, fmt.Errorf("tag %d: type %d", in.tag, in.typ)
	case in.count < 1 || in.count > dl:
		return Entry{}, fmt.Errorf("tag %d: count %d with %d data bytes", in.tag, in.count, dl)
	case in.offset < 0 || uint32(in.offset) > dl:
		return Entry{}, fmt.Errorf("tag %d: offset %d outside %d data bytes", in.tag, in.offset, dl)
	case uint32(in.offset)%uint32(in.typ.align()) != 0:
		return Entry{}, fmt.Errorf("tag %d: %s data at unaligned offset %d", in.tag, in.typ, in.offset)
	case in.typ != TypeBin && in.count > MaxArray:
		return Entry{}, fmt.Errorf("tag %d: %d values", in.tag, in.count)
	case uint32(in.offset) < prevEnd:
		return Entry{}, fmt.Errorf("tag %d: data at %d overlaps the previous entry's (ending at %d)", in.tag, in.offset, prevEnd)
	}
	n, err := dataLen(in.typ, in.count, data[in.offset:])
	if err != nil {
		return Entry{}, fmt.Errorf("tag %d: %w", in.tag, err)
	}
	if n == 0 {
		return Entry{}, fmt.Errorf("tag %d: empty data", in.tag)
	}
	d := slices.Clone(data[in.offset : uint32(in.offset)+n])
	return Entry{Tag: in.tag, Type: in.typ, Count: in.count, Data: d}, nil
}

// dataLen returns how many bytes of data an entry of typ and count takes.
func dataLen(typ TagType, count uint32, data []byte) (uint32, error) {
	switch typ {
	case TypeString, TypeStringArray, TypeI18NString:
		if typ == TypeString && count != 1 {
			return 0, fmt.Errorf("string with count %d", count)
		}
		n := 0
		for range count {
			end := bytes.IndexByte(data[n:], 0)
			if end < 0 {
				return 0, fmt.Errorf("%s of %d values runs past the data", typ, count)
			}
			n += end + 1
		}
		return uint32(n), nil
	}
	n := uint64(count) * uint64(typ.size())
	if n > uint64(len(data)) {
		return 0, fmt.Errorf("%d %s values run past the data", count, typ)
	}
	return uint32(n), nil
}

// checkValue checks that an entry built by a caller is well-formed.
func checkValue(e Entry) error {
	switch {
	case e.Tag < TagHeaderI18NTable:
		return fmt.Errorf("tag %d is reserved", e.Tag)
	case e.Type < TypeChar || e.Type > TypeI18NString:
		return fmt.Errorf("tag %d: type %d", e.Tag, e.Type)
	case e.Count < 1:
		return fmt.Errorf("tag %d: no values", e.Tag)
	case e.Type != TypeBin && e.Count > MaxArray:
		return fmt.Errorf("tag %d: %d values", e.Tag, e.Count)
	}
	n, err := dataLen(e.Type, e.Count, e.Data)
	if err != nil {
		return fmt.Errorf("tag %d: %w", e.Tag, err)
	}
	if n != uint32(len(e.Data)) {
		return fmt.Errorf("tag %d: %d data bytes for %d %s values of %d bytes", e.Tag, len(e.Data), e.Count, e.Type, n)
	}
	return nil
}

func sortedByTag(es []Entry) []Entry {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b Entry) int { return int(a.Tag) - int(b.Tag) })
	return out
}

// encoder lays out entries as rpm's headerExport does: each entry's data
// aligned for its type relative to the start of the data store.
type encoder struct {
	index []byte
	data  []byte
}

func (w *encoder) add(e Entry) {
	if a := e.Type.align(); a > 1 {
		for len(w.data)%a != 0 {
			w.data = append(w.data, 0)
		}
	}
	var b [entryInfoSize]byte
	putInfo(b[:], info{tag: e.Tag, typ: e.Type, offset: int32(len(w.data)), count: e.Count})
	w.index = append(w.index, b[:]...)
	w.data = append(w.data, e.Data...)
}

func (w *encoder) blob() ([]byte, error) {
	il, dl := len(w.index)/entryInfoSize, len(w.data)
	if il > MaxTags || dl > MaxData {
		return nil, fmt.Errorf("header of %d tags and %d data bytes is over rpm's limits", il, dl)
	}
	out := make([]byte, 8, 8+len(w.index)+len(w.data))
	binary.BigEndian.PutUint32(out, uint32(il))
	binary.BigEndian.PutUint32(out[4:], uint32(dl))
	out = append(out, w.index...)
	return append(out, w.data...), nil
}

// Blob encodes the header as the rpm databases store it (no magic). A region
// read from a blob or package is copied byte for byte and the entries
// outside it follow: first those that were outside it already, then the
// added ones by tag. A header from NewHeader with a region gets one holding
// all its entries, by tag, closed by the trailer.
func (h *Header) Blob() ([]byte, error) {
	for _, e := range h.outside {
		if err := checkValue(e); err != nil {
			return nil, err
		}
	}
	w := &encoder{}
	switch {
	case h.regionIndex != nil:
		w.index = slices.Clone(h.regionIndex)
		w.data = slices.Clone(h.regionData)
		for _, e := range h.outside[:h.parsed] {
			w.add(e)
		}
		for _, e := range sortedByTag(h.outside[h.parsed:]) {
			w.add(e)
		}
	case h.region != 0:
		if len(h.outside) == 0 {
			return nil, errors.New("header has no entries")
		}
		es := sortedByTag(h.outside)
		n := len(es) + 1
		w.index = make([]byte, entryInfoSize) // the region entry, filled below
		for _, e := range es {
			w.add(e)
		}
		trailerAt := len(w.data)
		putInfo(w.index, info{tag: h.region, typ: TypeBin, offset: int32(trailerAt), count: entryInfoSize})
		var tr [entryInfoSize]byte
		putInfo(tr[:], info{tag: h.region, typ: TypeBin, offset: -int32(n * entryInfoSize), count: entryInfoSize})
		w.data = append(w.data, tr[:]...)
	default:
		if len(h.outside) == 0 {
			return nil, errors.New("header has no entries")
		}
		for _, e := range h.outside[:h.parsed] {
			w.add(e)
		}
		for _, e := range sortedByTag(h.outside[h.parsed:]) {
			w.add(e)
		}
	}
	return w.blob()
}

// Marshal encodes the header with its magic, as in a package file. A
// signature header must be followed by PadLen(len) zero bytes.
func (h *Header) Marshal() ([]byte, error) {
	b, err := h.Blob()
	if err != nil {
		return nil, err
	}
	return append(Magic[:len(Magic):len(Magic)], b...), nil
}
