package rpm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxDictionary bounds the dictionary an xz block or lzma stream may ask
// the decoder to allocate. xz -9 uses 64 MiB; a 64-byte stream can ask
// for 1.5 GiB (xz) or 4 GiB (lzma).
const maxDictionary = 256 << 20

// errDictionary is wrapped by errors of streams asking for more.
var errDictionary = errors.New("dictionary larger than allowed")

// xzGuard passes an xz stream through unchanged while walking its
// container (stream header, block headers, LZMA2 chunks, padding,
// checks) to refuse, before the decoder sees it, any block whose LZMA2
// dictionary exceeds maxDictionary. It stops walking at the stream's
// index: the decoder reads one stream.
type xzGuard struct {
	r     io.Reader
	err   error
	state int
	skip  int64  // bytes to pass before the next structure
	buf   []byte // a structure being collected
	need  int    // its length, once known
	check int64  // bytes of the stream's check
	block int64  // bytes of the current block so far (for its padding)
}

// States of xzGuard.
const (
	xzStreamHeader = iota
	xzBlockHeaderSize
	xzBlockHeader
	xzChunk
	xzDone
)

func newXZGuard(r io.Reader) *xzGuard { return &xzGuard{r: r, need: 12} }

func (g *xzGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i := 0; i < n && g.state != xzDone; {
		if g.skip > 0 {
			k := min(g.skip, int64(n-i))
			g.skip -= k
			i += int(k)
			continue
		}
		g.buf = append(g.buf, p[i])
		i++
		if e := g.step(); e != nil {
			g.err = fmt.Errorf("xz: %w", e)
			return 0, g.err
		}
	}
	return n, err
}

// step handles the byte just appended to buf.
func (g *xzGuard) step() error {
	switch g.state {
	case xzStreamHeader:
		if len(g.buf) < 12 {
			return nil
		}
		sizes := [16]int64{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}
		g.check = sizes[g.buf[7]&0x0f]
		g.state, g.buf = xzBlockHeaderSize, g.buf[:0]
	case xzBlockHeaderSize:
		if g.buf[0] == 0 { // the index: no more blocks
			g.state = xzDone
			return nil
		}
		g.need, g.state = (int(g.buf[0])+1)*4, xzBlockHeader
	case xzBlockHeader:
		if len(g.buf) < g.need {
			return nil
		}
		if err := checkBlockHeader(g.buf); err != nil {
			return err
		}
		g.block = int64(g.need)
		g.state, g.buf = xzChunk, g.buf[:0]
	case xzChunk:
		c := g.buf[0]
		switch {
		case c == 0: // end of the block's LZMA2 data: padding, check
			g.block++
			g.skip = (4-g.block%4)%4 + g.check
			g.state, g.buf = xzBlockHeaderSize, g.buf[:0]
		case c == 1 || c == 2:
			if len(g.buf) < 3 {
				return nil
			}
			size := int64(binary.BigEndian.Uint16(g.buf[1:])) + 1
			g.block += 3 + size
			g.skip, g.buf = size, g.buf[:0]
		case c >= 0x80:
			hl := 5
			if c >= 0xc0 {
				hl = 6
			}
			if len(g.buf) < hl {
				return nil
			}
			if hl == 6 && g.buf[5] > 224 { // lc/lp/pb properties
				return errors.New("bad LZMA2 chunk properties")
			}
			size := int64(binary.BigEndian.Uint16(g.buf[3:])) + 1
			g.block += int64(hl) + size
			g.skip, g.buf = size, g.buf[:0]
		default:
			return fmt.Errorf("bad LZMA2 chunk control byte %#x", c)
		}
	}
	return nil
}

// checkBlockHeader refuses a block whose LZMA2 filter's dictionary is too
// large.
func checkBlockHeader(h []byte) error {
	flags := h[1]
	rest := h[2 : len(h)-4] // without the CRC32
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < len(rest) && i < 9; i++ {
			v |= uint64(rest[i]&0x7f) << (7 * i)
			if rest[i]&0x80 == 0 {
				rest = rest[i+1:]
				return v, true
			}
		}
		return 0, false
	}
	for _, bit := range []byte{0x40, 0x80} { // compressed, uncompressed size
		if flags&bit != 0 {
			if _, ok := varint(); !ok {
				return errors.New("bad block header")
			}
		}
	}
	for range int(flags&3) + 1 {
		id, ok1 := varint()
		n, ok2 := varint()
		if !ok1 || !ok2 || n > uint64(len(rest)) {
			return errors.New("bad block header filter")
		}
		props := rest[:n]
		rest = rest[n:]
		if id == 0x21 {
			if len(props) != 1 || props[0] > 40 {
				return errors.New("bad LZMA2 dictionary size")
			}
			if d := int64(2|props[0]&1) << (props[0]/2 + 11); d > maxDictionary {
				return fmt.Errorf("%w: a block asks for a %d MiB dictionary (at most %d MiB)", errDictionary, d>>20, maxDictionary>>20)
			}
		}
	}
	return nil
}

// checkLZMAHeader refuses a legacy lzma stream (13-byte header:
// properties, dictionary size, uncompressed size) whose dictionary is too
// large.
func checkLZMAHeader(h []byte) error {
	if len(h) < 5 {
		return errors.New("lzma: truncated header")
	}
	if d := binary.LittleEndian.Uint32(h[1:5]); d > maxDictionary {
		return fmt.Errorf("lzma: %w: the stream asks for a %d MiB dictionary (at most %d MiB)", errDictionary, d>>20, maxDictionary>>20)
	}
	return nil
}
