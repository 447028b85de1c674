package apt

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

// A table is the parsed form of one verified Packages index: the records
// the patcher needs, in index order, and a name-sorted offset table for
// lookups. It is kept on disk under parsedDir, named by the SHA256 the
// signed Release gives for the raw index, so a new InRelease naming a new
// digest is a new table and a stale one is never found.
//
// Layout (integers little-endian):
//
//	magic "PLAPTIX1" | source SHA256 (32 bytes)
//	records: uvarint-length-prefixed strings (recordFields), Size uvarint, Essential byte
//	offsets: count × uint32, sorted by package name (index order among equals)
//	count uint32 | offsets position uint64
//	HMAC-SHA256 of everything above (32 bytes)
//
// The MAC is keyed by a random key kept in the cache (parsedKeyFile, mode
// 0600). A file whose MAC, digest or structure does not check out is
// rebuilt from the raw index, whose SHA256 is checked again as it is
// parsed: a table is never trusted on its name alone.
type table struct {
	data    []byte // the whole file
	offsets []byte // count × uint32, within data
	count   int
	end     int // where the offsets start: records lie in data[headerLen:end]
}

const (
	tableMagic   = "PLAPTIX1"
	headerLen    = len(tableMagic) + sha256.Size
	trailerLen   = 4 + 8 + sha256.Size
	parsedDir    = "parsed"
	parsedKeyLen = 32
	// parsedKeyFile holds the MAC key of the tables in parsedDir.
	parsedKeyFile = "key"
)

// errBadTable is wrapped by errors about a table file that fails its checks.
var errBadTable = errors.New("invalid parsed index")

// tableWriter streams records to a table file, keeping only names and
// offsets in memory.
type tableWriter struct {
	w     *bufio.Writer
	mac   hash.Hash
	off   int
	names []nameOffset
	buf   []byte
}

type nameOffset struct {
	name string
	off  uint32
}

func newTableWriter(w io.Writer, key []byte, sourceSHA256 string) (*tableWriter, error) {
	sum, err := hex.DecodeString(sourceSHA256)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("invalid SHA256 %q", sourceSHA256)
	}
	mac := hmac.New(sha256.New, key)
	tw := &tableWriter{w: bufio.NewWriterSize(io.MultiWriter(w, mac), 64<<10), mac: mac}
	tw.write([]byte(tableMagic))
	tw.write(sum)
	return tw, nil
}

func (tw *tableWriter) write(b []byte) {
	n, _ := tw.w.Write(b) // Errors surface at Flush.
	tw.off += n
}

// recordFields lists the string fields of a record, in stored order.
func recordFields(p *Package) []*string {
	return []*string{&p.Name, &p.Version, &p.Architecture, &p.Source, &p.SourceVersion,
		&p.Depends, &p.PreDepends, &p.Breaks, &p.Conflicts, &p.Provides, &p.Replaces,
		&p.MultiArch, &p.Filename, &p.SHA256}
}

// add appends one record.
func (tw *tableWriter) add(p Package) error {
	if tw.off > 1<<32-1 {
		return errors.New("parsed index over 4 GiB")
	}
	tw.names = append(tw.names, nameOffset{name: p.Name, off: uint32(tw.off)})
	b := tw.buf[:0]
	for _, s := range recordFields(&p) {
		b = binary.AppendUvarint(b, uint64(len(*s)))
		b = append(b, *s...)
	}
	b = binary.AppendUvarint(b, uint64(p.Size))
	if p.Essential {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	tw.buf = b
	tw.write(b)
	return nil
}

// finish writes the offsets, the trailer and the MAC.
func (tw *tableWriter) finish() error {
	slices.SortStableFunc(tw.names, func(a, b nameOffset) int { return strings.Compare(a.name, b.name) })
	end := tw.off
	var b [8]byte
	for _, n := range tw.names {
		binary.LittleEndian.PutUint32(b[:4], n.off)
		tw.write(b[:4])
	}
	binary.LittleEndian.PutUint32(b[:4], uint32(len(tw.names)))
	tw.write(b[:4])
	binary.LittleEndian.PutUint64(b[:], uint64(end))
	tw.write(b[:])
	if err := tw.w.Flush(); err != nil {
		return err
	}
	// The MAC covers what was flushed; it is written past the MAC writer.
	sum := tw.mac.Sum(nil)
	tw.mac = nil
	_, err := tw.w.Write(sum)
	if err == nil {
		err = tw.w.Flush()
	}
	return err
}

// openTable checks and returns the table in data, which must be the
// parsed form of the raw index with the given SHA256.
func openTable(data, key []byte, sourceSHA256 string) (*table, error) {
	if len(data) < headerLen+trailerLen {
		return nil, fmt.Errorf("%w: %d bytes is too short", errBadTable, len(data))
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadTable)
	}
	if string(data[:len(tableMagic)]) != tableMagic {
		return nil, fmt.Errorf("%w: unknown format", errBadTable)
	}
	if hex.EncodeToString(data[len(tableMagic):headerLen]) != sourceSHA256 {
		return nil, fmt.Errorf("%w: built from another index", errBadTable)
	}
	tail := body[len(body)-12:]
	count := int(binary.LittleEndian.Uint32(tail[:4]))
	end := binary.LittleEndian.Uint64(tail[4:])
	if end < uint64(headerLen) || end > uint64(len(body)-12) || uint64(len(body)-12)-end != 4*uint64(count) {
		return nil, fmt.Errorf("%w: bad offset table", errBadTable)
	}
	t := &table{data: data, offsets: body[end : len(body)-12], count: count, end: int(end)}
	for i := range count {
		if off := t.offset(i); off < headerLen || off >= t.end {
			return nil, fmt.Errorf("%w: record offset out of range", errBadTable)
		}
	}
	return t, nil
}

func (t *table) offset(i int) int {
	return int(binary.LittleEndian.Uint32(t.offsets[4*i:]))
}

// nameAt returns the name of the record at off without copying it.
func (t *table) nameAt(off int) []byte {
	r := t.data[off:t.end]
	n, k := binary.Uvarint(r)
	if k <= 0 || n > uint64(len(r)-k) {
		return nil
	}
	return r[k : k+int(n)]
}

// lookup returns the records named name, in index order.
func (t *table) lookup(name string) ([]Package, error) {
	key := []byte(name)
	i := sort.Search(t.count, func(i int) bool { return bytes.Compare(t.nameAt(t.offset(i)), key) >= 0 })
	var out []Package
	for ; i < t.count; i++ {
		off := t.offset(i)
		if !bytes.Equal(t.nameAt(off), key) {
			break
		}
		p, err := t.record(off)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// record decodes the record at off.
func (t *table) record(off int) (Package, error) {
	var p Package
	r := t.data[off:t.end]
	for _, s := range recordFields(&p) {
		n, k := binary.Uvarint(r)
		if k <= 0 || n > uint64(len(r)-k) {
			return Package{}, fmt.Errorf("%w: truncated record at %d", errBadTable, off)
		}
		*s = string(r[k : k+int(n)])
		r = r[k+int(n):]
	}
	size, k := binary.Uvarint(r)
	if k <= 0 || len(r) <= k || size > 1<<62 {
		return Package{}, fmt.Errorf("%w: truncated record at %d", errBadTable, off)
	}
	p.Size, p.Essential = int64(size), r[k] == 1
	return p, nil
}

// parsedKey returns the MAC key of the tables under dir, creating it on
// first use. A key file of the wrong size is replaced, which invalidates
// every table made with it.
func parsedKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, parsedKeyFile)
	key, err := os.ReadFile(path)
	if err == nil && len(key) == parsedKeyLen {
		return key, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	key = make([]byte, parsedKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, parsedKeyFile+".*.partial")
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
		if rerr == nil && len(existing) == parsedKeyLen {
			return existing, nil
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return nil, fmt.Errorf("replacing %s: %w", path, err)
		}
	}
	return key, nil
}
