package parsedcache

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// A Table is the parsed form of one verified index.
//
// Layout (integers little-endian):
//
//	magic (8 bytes) | source SHA256 (32 bytes)
//	records: uvarint length, bytes
//	keys: uvarint length, bytes (each distinct key of an index once)
//	per index: count × (key offset uint32, record offset uint32), sorted by key, add order among equals
//	per index: entries position uint64, count uint32
//	index count uint32 | records end uint64
//	HMAC-SHA256 of everything above (32 bytes)
type Table struct {
	data    []byte
	indexes [][]byte // per index: count × 8 bytes within data
	records int      // number of records
	end     int      // records lie in data[headerLen:end]
}

const (
	magicLen  = 8
	headerLen = magicLen + sha256.Size
	// KeyLen is the size of a MAC key.
	KeyLen = 32
	// keyFile holds the MAC key of the tables of a directory.
	keyFile = "key"
	maxSize = 1<<32 - 1
)

// ErrBadTable is wrapped by errors about a table file that fails its
// checks.
var ErrBadTable = errors.New("invalid parsed index")

// Writer streams records to a table file, keeping only keys and offsets
// in memory.
type Writer struct {
	w       *bufio.Writer
	mac     hash.Hash
	off     int
	entries [][]entry
	records int
	buf     []byte
}

type entry struct {
	key string
	rec uint32
}

// NewWriter starts a table with the given 8-byte magic, built from the raw
// index whose SHA256 (hex) is source, with n key indexes, MACed with key.
func NewWriter(w io.Writer, magic string, key []byte, source string, n int) (*Writer, error) {
	sum, err := hex.DecodeString(source)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("invalid SHA256 %q", source)
	}
	if len(magic) != magicLen {
		return nil, fmt.Errorf("magic %q is not %d bytes", magic, magicLen)
	}
	mac := hmac.New(sha256.New, key)
	tw := &Writer{w: bufio.NewWriterSize(io.MultiWriter(w, mac), 64<<10), mac: mac, entries: make([][]entry, n)}
	tw.write([]byte(magic))
	tw.write(sum)
	return tw, nil
}

func (tw *Writer) write(b []byte) {
	n, _ := tw.w.Write(b) // Errors surface at Flush.
	tw.off += n
}

// Add appends a record; keys[i] are its keys in index i (a record may have
// none or several in an index).
func (tw *Writer) Add(record []byte, keys ...[]string) error {
	if len(keys) > len(tw.entries) {
		return fmt.Errorf("%d key lists for %d indexes", len(keys), len(tw.entries))
	}
	if tw.off+len(record)+binary.MaxVarintLen64 > maxSize {
		return errors.New("parsed index over 4 GiB")
	}
	off := uint32(tw.off)
	for i, ks := range keys {
		for _, k := range ks {
			tw.entries[i] = append(tw.entries[i], entry{key: k, rec: off})
		}
	}
	tw.buf = binary.AppendUvarint(tw.buf[:0], uint64(len(record)))
	tw.write(tw.buf)
	tw.write(record)
	tw.records++
	return nil
}

// Records returns the number of records added.
func (tw *Writer) Records() int { return tw.records }

// Finish writes the keys, the indexes, the trailer and the MAC, and
// flushes.
func (tw *Writer) Finish() error {
	end := tw.off
	keyOffs := make([][]uint32, len(tw.entries))
	for i, es := range tw.entries {
		slices.SortStableFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
		keyOffs[i] = make([]uint32, len(es))
		for j, e := range es {
			if j > 0 && es[j-1].key == e.key {
				keyOffs[i][j] = keyOffs[i][j-1]
				continue
			}
			if tw.off+len(e.key)+binary.MaxVarintLen64 > maxSize {
				return errors.New("parsed index over 4 GiB")
			}
			keyOffs[i][j] = uint32(tw.off)
			tw.buf = binary.AppendUvarint(tw.buf[:0], uint64(len(e.key)))
			tw.write(tw.buf)
			tw.write([]byte(e.key))
		}
	}
	starts := make([]int, len(tw.entries))
	var b [8]byte
	for i, es := range tw.entries {
		starts[i] = tw.off
		for j, e := range es {
			binary.LittleEndian.PutUint32(b[:4], keyOffs[i][j])
			binary.LittleEndian.PutUint32(b[4:], e.rec)
			tw.write(b[:])
		}
	}
	for i, es := range tw.entries {
		binary.LittleEndian.PutUint64(b[:], uint64(starts[i]))
		tw.write(b[:])
		binary.LittleEndian.PutUint32(b[:4], uint32(len(es)))
		tw.write(b[:4])
	}
	binary.LittleEndian.PutUint32(b[:4], uint32(len(tw.entries)))
	tw.write(b[:4])
	binary.LittleEndian.PutUint64(b[:], uint64(end))
	tw.write(b[:])
	if err := tw.w.Flush(); err != nil {
		return err
	}
	// The MAC covers what was flushed; it is written past the MAC writer.
	sum := tw.mac.Sum(nil)
	_, err := tw.w.Write(sum)
	if err == nil {
		err = tw.w.Flush()
	}
	tw.entries = nil
	return err
}

// Open checks and returns the table in data, which must carry magic, n
// indexes, and be the parsed form of the raw index with the given SHA256.
// Errors wrap ErrBadTable.
func Open(data, key []byte, magic, source string, n int) (*Table, error) {
	trailer := 4 + 8 + 12*n + sha256.Size
	if len(data) < headerLen+trailer || len(data) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes is not a valid size", ErrBadTable, len(data))
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrBadTable)
	}
	if string(data[:magicLen]) != magic {
		return nil, fmt.Errorf("%w: unknown format", ErrBadTable)
	}
	if hex.EncodeToString(data[magicLen:headerLen]) != source {
		return nil, fmt.Errorf("%w: built from another index", ErrBadTable)
	}
	tail := body[len(body)-12:]
	if int(binary.LittleEndian.Uint32(tail[:4])) != n {
		return nil, fmt.Errorf("%w: not %d indexes", ErrBadTable, n)
	}
	end := binary.LittleEndian.Uint64(tail[4:])
	limit := uint64(len(body) - 12 - 12*n) // where the index positions start
	if end < headerLen || end > limit {
		return nil, fmt.Errorf("%w: bad records end", ErrBadTable)
	}
	t := &Table{data: data, end: int(end)}
	pos := body[limit:]
	for i := range n {
		start := binary.LittleEndian.Uint64(pos[12*i:])
		count := uint64(binary.LittleEndian.Uint32(pos[12*i+8:]))
		if start < end || start > limit || (limit-start)/8 < count {
			return nil, fmt.Errorf("%w: bad index %d", ErrBadTable, i)
		}
		ix := data[start : start+8*count]
		for j := range int(count) {
			if k, r := binary.LittleEndian.Uint32(ix[8*j:]), binary.LittleEndian.Uint32(ix[8*j+4:]); uint64(k) < end || uint64(k) >= limit || r < headerLen || uint64(r) >= end {
				return nil, fmt.Errorf("%w: index %d entry out of range", ErrBadTable, i)
			}
		}
		t.indexes = append(t.indexes, ix)
	}
	return t, nil
}

// Size returns the size of the table in bytes.
func (t *Table) Size() int { return len(t.data) }

// item returns the uvarint-length-prefixed bytes at off, which must end
// before limit, or nil.
func (t *Table) item(off, limit int) []byte {
	r := t.data[off:limit]
	n, k := binary.Uvarint(r)
	if k <= 0 || n > uint64(len(r)-k) {
		return nil
	}
	return r[k : k+int(n)]
}

// Lookup returns the records with key in index i, in the order they were
// added. The slices alias the table: read them, do not keep or modify
// them. A record that cannot be decoded (the table passed its MAC, so
// only a bug makes one) is an error wrapping ErrBadTable.
func (t *Table) Lookup(i int, key string) ([][]byte, error) {
	if i < 0 || i >= len(t.indexes) {
		return nil, fmt.Errorf("no index %d", i)
	}
	ix := t.indexes[i]
	count := len(ix) / 8
	keyEnd := len(t.data) - sha256.Size
	keyAt := func(j int) []byte { return t.item(int(binary.LittleEndian.Uint32(ix[8*j:])), keyEnd) }
	kb := []byte(key)
	j := sort.Search(count, func(j int) bool { return bytes.Compare(keyAt(j), kb) >= 0 })
	var out [][]byte
	for ; j < count && bytes.Equal(keyAt(j), kb); j++ {
		off := int(binary.LittleEndian.Uint32(ix[8*j+4:]))
		rec := t.item(off, t.end)
		if rec == nil {
			return nil, fmt.Errorf("%w: truncated record at %d", ErrBadTable, off)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Key returns the MAC key of the tables under dir, creating it on first
// use. A key file of the wrong size is replaced, which invalidates every
// table made with it.
func Key(dir string) ([]byte, error) {
	path := filepath.Join(dir, keyFile)
	key, err := os.ReadFile(path)
	if err == nil && len(key) == KeyLen {
		return key, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	key = make([]byte, KeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, keyFile+".*.partial")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // No-op once linked.
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	// Link, not rename: when another process made a key first, use its key.
	if err := os.Link(tmp.Name(), path); err != nil {
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
		existing, rerr := os.ReadFile(path)
		if rerr == nil && len(existing) == KeyLen {
			return existing, nil
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return nil, fmt.Errorf("replacing %s: %w", path, err)
		}
	}
	return key, nil
}
