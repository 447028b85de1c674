package apk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/gzip"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/parsedcache"
)

// IndexStats are the counts of how the indexes a client loaded were
// obtained (parsed, loaded from disk, rejected and rebuilt).
type IndexStats = parsedcache.Stats

// IndexStats returns the counts since the client was made.
func (c *Client) IndexStats() IndexStats { return c.parsed.Stats() }

// Parsed index tables: the format tag, and the key indexes of a table.
const (
	parsedMagic = "PLAPKIX1"
	parsedDir   = "apk-parsed"
	byName      = 0 // a record's P: name
	byProvides  = 1 // its name and every name of its p:
)

// signedPart reads the signature member of an APKINDEX.tar.gz and checks
// that a key of kr signed everything after it, as apk does: the
// signature covers the compressed bytes of the second gzip member, which
// must run to the end of the file. It returns where that member starts.
// Only the small first member is inflated. Errors wrap ErrUnsigned,
// ErrUntrustedKey or ErrBadSignature.
func signedPart(data []byte, kr *Keyring) (int64, error) {
	mr := &memberReader{br: bufio.NewReader(bytes.NewReader(data))}
	zr, err := gzip.NewReader(mr)
	if err != nil {
		return 0, fmt.Errorf("gzip stream 1: %w", err)
	}
	zr.Multistream(false)
	sigs, err := readSignatures(zr)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return 0, fmt.Errorf("gzip stream 1: %w", err)
	}
	off := mr.n
	if len(sigs) == 0 || off >= int64(len(data)) {
		return 0, ErrUnsigned
	}
	signed := data[off:]
	h1, h256 := newSHA1(), newSHA256()
	h1.Write(signed)
	h256.Write(signed)
	m := member{off: off, len: int64(len(signed)), sha1: h1.Sum(nil), sha256: h256.Sum(nil)}
	if err := verifyIndex(sigs, m, kr); err != nil {
		return 0, err
	}
	return off, nil
}

// parsedIndex verifies the APKINDEX.tar.gz in data against kr and returns
// its table: the one held for url while data is unchanged, else the
// checked table on disk, else one parsed from data. The signature is
// checked on every call, so a table is used only with a keyring that
// trusts its index.
func (c *Client) parsedIndex(ctx context.Context, url string, data []byte, kr *Keyring) (*parsedcache.Table, error) {
	off, err := signedPart(data, kr)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return c.parsed.Get(ctx, url, hex.EncodeToString(sum[:]), func(ctx context.Context, w *parsedcache.Writer) error {
		return writeTable(ctx, data[off:], w)
	})
}

// writeTable reads the signed stream of a verified index (one gzip
// member holding the APKINDEX file, nothing after) and adds its records
// to w, one at a time.
func writeTable(ctx context.Context, signed []byte, w *parsedcache.Writer) error {
	// A bytes.Reader is a ByteReader: the inflater reads no further than
	// the member's end, so what is left is what follows it.
	br := bytes.NewReader(signed)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return fmt.Errorf("gzip stream 2: %w", err)
	}
	zr.Multistream(false)
	text, err := readTarFile(zr, "APKINDEX", maxIndexText)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("gzip stream 2: %w", err)
	}
	if br.Len() > 0 {
		return fmt.Errorf("more than 2 gzip streams")
	}
	if text == nil {
		return errors.New("no APKINDEX file in the index archive")
	}
	var rec []byte
	var provides []string
	n := 0
	err = ospkg.EachApkRecord(text, nil, func(r ospkg.ApkRecord) error {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p, err := packageFromRecord(r)
		if err != nil {
			return err
		}
		provides = append(provides[:0], p.Name)
		for _, pr := range p.Provides {
			if pr.Name != p.Name && !slices.Contains(provides, pr.Name) {
				provides = append(provides, pr.Name)
			}
		}
		rec = encodeRecord(rec[:0], r)
		return w.Add(rec, []string{p.Name}, provides)
	})
	if err != nil {
		return fmt.Errorf("APKINDEX: %w", err)
	}
	return nil
}

// encodeRecord appends a record's line and fields (key, line, value) to b.
func encodeRecord(b []byte, r ospkg.ApkRecord) []byte {
	b = binary.AppendUvarint(b, uint64(r.Line))
	for _, f := range r.Fields {
		b = append(b, f.Key)
		b = binary.AppendUvarint(b, uint64(f.Line))
		b = binary.AppendUvarint(b, uint64(len(f.Value)))
		b = append(b, f.Value...)
	}
	return b
}

// decodeRecord reads a record encodeRecord wrote.
func decodeRecord(b []byte) (ospkg.ApkRecord, error) {
	bad := fmt.Errorf("%w: truncated record", parsedcache.ErrBadTable)
	line, k := binary.Uvarint(b)
	if k <= 0 {
		return ospkg.ApkRecord{}, bad
	}
	r := ospkg.ApkRecord{Line: int(line)}
	for b = b[k:]; len(b) > 0; {
		key := b[0]
		fl, k := binary.Uvarint(b[1:])
		if k <= 0 {
			return ospkg.ApkRecord{}, bad
		}
		b = b[1+k:]
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return ospkg.ApkRecord{}, bad
		}
		r.Fields = append(r.Fields, ospkg.ApkField{Key: key, Line: int(fl), Value: string(b[k : k+int(n)])})
		b = b[k+int(n):]
	}
	return r, nil
}
