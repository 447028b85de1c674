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
	"sync"
)

// A Table is the parsed form of one verified index, read from its file on
// demand: only the blocks a lookup touches are read, so the memory a table
// takes does not grow with the index (32 bytes per 4 KiB block).
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
//
// Open reads the file once to check the MAC, and keeps the SHA-256 of
// each block as it was then: every later read is checked against it, so
// a file changed after the check is an error, never trusted.
type Table struct {
	f       *os.File
	size    int64      // of the body, without the MAC
	blocks  [][32]byte // SHA-256 of each blockSize bytes of the body
	indexes []span     // per index: where its entries are
	end     int64      // records lie in [headerLen, end)

	mu    sync.Mutex
	cache map[int64][]byte // verified blocks, by number
}

// span is a run of count index entries at off.
type span struct{ off, count int64 }

const (
	magicLen  = 8
	headerLen = magicLen + sha256.Size
	// KeyLen is the size of a MAC key.
	KeyLen = 32
	// keyFile holds the MAC key of the tables of a directory.
	keyFile = "key"
	maxSize = 1<<32 - 1
	// blockSize is the unit in which a table is read and checked.
	blockSize = 4096
	// cachedBlocks bounds the verified blocks a table keeps.
	cachedBlocks = 256
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

// Open checks and returns the table in f, which must carry magic, n
// indexes, and be the parsed form of the raw index with the given SHA256.
// The table reads f from then on: the caller must not close it. Errors
// wrap ErrBadTable, or are about reading f.
func Open(f *os.File, key []byte, magic, source string, n int) (*Table, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	trailer := int64(4 + 8 + 12*n + sha256.Size)
	if fi.Size() < headerLen+trailer || fi.Size() > maxSize {
		return nil, fmt.Errorf("%w: %d bytes is not a valid size", ErrBadTable, fi.Size())
	}
	t := &Table{f: f, size: fi.Size() - sha256.Size, cache: map[int64][]byte{}}
	// One pass: the MAC of the body, and each block's SHA-256.
	mac := hmac.New(sha256.New, key)
	buf := make([]byte, 16*blockSize)
	t.blocks = make([][32]byte, 0, (t.size+blockSize-1)/blockSize)
	for off := int64(0); off < t.size; off += int64(len(buf)) {
		chunk := buf[:min(int64(len(buf)), t.size-off)]
		if _, err := f.ReadAt(chunk, off); err != nil {
			return nil, fmt.Errorf("reading parsed index: %w", err)
		}
		mac.Write(chunk)
		for b := chunk; len(b) > 0; b = b[min(blockSize, len(b)):] {
			t.blocks = append(t.blocks, sha256.Sum256(b[:min(blockSize, len(b))]))
		}
	}
	sum := make([]byte, sha256.Size)
	if _, err := f.ReadAt(sum, t.size); err != nil {
		return nil, fmt.Errorf("reading parsed index: %w", err)
	}
	if !hmac.Equal(mac.Sum(nil), sum) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrBadTable)
	}
	head, err := t.readAt(0, headerLen)
	if err != nil {
		return nil, err
	}
	if string(head[:magicLen]) != magic {
		return nil, fmt.Errorf("%w: unknown format", ErrBadTable)
	}
	if hex.EncodeToString(head[magicLen:]) != source {
		return nil, fmt.Errorf("%w: built from another index", ErrBadTable)
	}
	limit := t.size - 12 - 12*int64(n) // where the index positions start
	tail, err := t.readAt(limit, 12*int64(n)+12)
	if err != nil {
		return nil, err
	}
	if int(binary.LittleEndian.Uint32(tail[12*n:])) != n {
		return nil, fmt.Errorf("%w: not %d indexes", ErrBadTable, n)
	}
	t.end = int64(binary.LittleEndian.Uint64(tail[12*n+4:]))
	if t.end < headerLen || t.end > limit {
		return nil, fmt.Errorf("%w: bad records end", ErrBadTable)
	}
	for i := range n {
		start := int64(binary.LittleEndian.Uint64(tail[12*i:]))
		count := int64(binary.LittleEndian.Uint32(tail[12*i+8:]))
		if start < t.end || start > limit || (limit-start)/8 < count {
			return nil, fmt.Errorf("%w: bad index %d", ErrBadTable, i)
		}
		t.indexes = append(t.indexes, span{off: start, count: count})
	}
	return t, nil
}

// Size returns the size of the table file in bytes.
func (t *Table) Size() int64 { return t.size + sha256.Size }

// block returns block i of the body, checked against its hash.
func (t *Table) block(i int64) ([]byte, error) {
	t.mu.Lock()
	b, ok := t.cache[i]
	t.mu.Unlock()
	if ok {
		return b, nil
	}
	b = make([]byte, min(blockSize, t.size-i*blockSize))
	if _, err := t.f.ReadAt(b, i*blockSize); err != nil {
		return nil, fmt.Errorf("reading parsed index: %w", err)
	}
	if sha256.Sum256(b) != t.blocks[i] {
		return nil, fmt.Errorf("%w: block %d changed since it was checked", ErrBadTable, i)
	}
	t.mu.Lock()
	if len(t.cache) >= cachedBlocks {
		for k := range t.cache { // Evict one at random.
			delete(t.cache, k)
			break
		}
	}
	t.cache[i] = b
	t.mu.Unlock()
	return b, nil
}

// readAt returns n bytes of the body at off, checked. The slice may alias
// a cached block: do not modify it.
func (t *Table) readAt(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off+n > t.size {
		return nil, fmt.Errorf("%w: read of %d bytes at %d past the end", ErrBadTable, n, off)
	}
	first, last := off/blockSize, (off+n-1)/blockSize
	if n == 0 || first == last {
		if n == 0 {
			return nil, nil
		}
		b, err := t.block(first)
		if err != nil {
			return nil, err
		}
		return b[off-first*blockSize : off-first*blockSize+n], nil
	}
	out := make([]byte, 0, n)
	for i := first; i <= last; i++ {
		b, err := t.block(i)
		if err != nil {
			return nil, err
		}
		lo, hi := int64(0), int64(len(b))
		if i == first {
			lo = off - first*blockSize
		}
		if i == last {
			hi = off + n - last*blockSize
		}
		out = append(out, b[lo:hi]...)
	}
	return out, nil
}

// item returns the uvarint-length-prefixed bytes at off, which must end
// before limit.
func (t *Table) item(off, limit int64) ([]byte, error) {
	if off < headerLen || off >= limit {
		return nil, fmt.Errorf("%w: item offset %d out of range", ErrBadTable, off)
	}
	head, err := t.readAt(off, min(binary.MaxVarintLen64, limit-off))
	if err != nil {
		return nil, err
	}
	n, k := binary.Uvarint(head)
	if k <= 0 || n > uint64(limit-off-int64(k)) {
		return nil, fmt.Errorf("%w: truncated item at %d", ErrBadTable, off)
	}
	return t.readAt(off+int64(k), int64(n))
}

// entry returns entry j of index ix: its key offset and record offset.
func (t *Table) entry(ix span, j int64) (int64, int64, error) {
	b, err := t.readAt(ix.off+8*j, 8)
	if err != nil {
		return 0, 0, err
	}
	return int64(binary.LittleEndian.Uint32(b)), int64(binary.LittleEndian.Uint32(b[4:])), nil
}

// Lookup returns the records with key in index i, in the order they were
// added. The slices may alias the table's cache: read them, do not keep
// or modify them. A table that cannot be read as it was checked (changed
// on disk since, or a bug) gives an error wrapping ErrBadTable.
func (t *Table) Lookup(i int, key string) ([][]byte, error) {
	if i < 0 || i >= len(t.indexes) {
		return nil, fmt.Errorf("no index %d", i)
	}
	ix := t.indexes[i]
	keyAt := func(j int64) ([]byte, error) {
		k, _, err := t.entry(ix, j)
		if err != nil {
			return nil, err
		}
		return t.item(k, t.size)
	}
	kb := []byte(key)
	var err error
	j := int64(sort.Search(int(ix.count), func(j int) bool {
		if err != nil {
			return true
		}
		var k []byte
		k, err = keyAt(int64(j))
		return err != nil || bytes.Compare(k, kb) >= 0
	}))
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for ; j < ix.count; j++ {
		k, err := keyAt(j)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(k, kb) {
			break
		}
		_, off, err := t.entry(ix, j)
		if err != nil {
			return nil, err
		}
		rec, err := t.item(off, t.end)
		if err != nil {
			return nil, err
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
