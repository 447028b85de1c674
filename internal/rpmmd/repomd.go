package rpmmd

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"path"
	"strings"
)

// Repomd is repodata/repomd.xml: the list of a repository's metadata
// files with their checksums.
type Repomd struct {
	// Revision is the repository's revision (usually a timestamp).
	Revision string
	// Data are the metadata files by type ("primary", "filelists",
	// "other", "modules", "updateinfo", "group"…).
	Data map[string]DataFile
}

// DataFile is one <data> entry of repomd.xml.
type DataFile struct {
	Type string
	// Location is the path of the file relative to the repository root
	// ("repodata/…-primary.xml.gz").
	Location string
	// Checksum is the checksum of the file as stored (compressed).
	Checksum Checksum
	// OpenChecksum is the checksum of the uncompressed content.
	OpenChecksum Checksum
	// Size and OpenSize are the stored and uncompressed sizes; 0 when
	// repomd does not say.
	Size, OpenSize int64
}

// Checksum is a typed hex digest, as repository metadata writes them.
type Checksum struct {
	// Type is "sha256", "sha512", "sha384", "sha224" or "sha1" ("sha" is
	// read as "sha1").
	Type string
	// Hex is the lower-case hex digest.
	Hex string
}

// String prints "type:hex".
func (c Checksum) String() string { return c.Type + ":" + c.Hex }

// ErrChecksum is wrapped by errors of data that does not match the
// checksum naming it.
var ErrChecksum = errors.New("checksum mismatch")

// ErrWeakChecksum is wrapped by errors of checksums this package refuses
// to trust (md5, unknown types).
var ErrWeakChecksum = errors.New("checksum type not accepted")

// newChecksum checks a checksum's type and digest length.
func newChecksum(typ, hexsum string) (Checksum, error) {
	typ = strings.ToLower(strings.TrimSpace(typ))
	if typ == "sha" {
		typ = "sha1"
	}
	hexsum = strings.ToLower(strings.TrimSpace(hexsum))
	h, err := newHash(typ)
	if err != nil {
		return Checksum{}, err
	}
	if b, derr := hex.DecodeString(hexsum); derr != nil || len(b) != h.Size() {
		return Checksum{}, fmt.Errorf("%s checksum %q: not %d hex bytes", typ, hexsum, h.Size())
	}
	return Checksum{Type: typ, Hex: hexsum}, nil
}

// newHash returns the hash of a checksum type.
func newHash(typ string) (hash.Hash, error) {
	switch typ {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha224":
		return sha256.New224(), nil
	case "sha1":
		return sha1.New(), nil
	}
	return nil, fmt.Errorf("%w: %q (want sha256, sha512, sha384, sha224 or sha1)", ErrWeakChecksum, typ)
}

// Hash returns a new hash of the checksum's type.
func (c Checksum) Hash() (hash.Hash, error) { return newHash(c.Type) }

// Verify checks data against the checksum.
func (c Checksum) Verify(data []byte) error {
	h, err := c.Hash()
	if err != nil {
		return err
	}
	h.Write(data)
	if got := hex.EncodeToString(h.Sum(nil)); got != c.Hex {
		return fmt.Errorf("%w: %s is %s, want %s", ErrChecksum, c.Type, got, c.Hex)
	}
	return nil
}

// maxRepomdSize bounds repomd.xml (Fedora's is ~10 KiB).
const maxRepomdSize = 4 << 20

// xmlRepomd is the XML shape of repomd.xml.
type xmlRepomd struct {
	XMLName  xml.Name `xml:"repomd"`
	Revision string   `xml:"revision"`
	Data     []struct {
		Type     string `xml:"type,attr"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		OpenChecksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"open-checksum"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Size     int64 `xml:"size"`
		OpenSize int64 `xml:"open-size"`
	} `xml:"data"`
}

// ParseRepomd reads repomd.xml. Every data entry must have a checksum of
// an accepted type and a location inside the repository.
func ParseRepomd(data []byte) (*Repomd, error) {
	if len(data) > maxRepomdSize {
		return nil, fmt.Errorf("repomd.xml: larger than %d bytes", maxRepomdSize)
	}
	var x xmlRepomd
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("repomd.xml: %w", err)
	}
	rm := &Repomd{Revision: strings.TrimSpace(x.Revision), Data: map[string]DataFile{}}
	for _, d := range x.Data {
		df := DataFile{Type: d.Type, Size: d.Size, OpenSize: d.OpenSize}
		var err error
		if df.Checksum, err = newChecksum(d.Checksum.Type, d.Checksum.Value); err != nil {
			return nil, fmt.Errorf("repomd.xml data %q: %w", d.Type, err)
		}
		if d.OpenChecksum.Value != "" {
			if df.OpenChecksum, err = newChecksum(d.OpenChecksum.Type, d.OpenChecksum.Value); err != nil {
				return nil, fmt.Errorf("repomd.xml data %q open-checksum: %w", d.Type, err)
			}
		}
		if df.Location, err = cleanLocation(d.Location.Href); err != nil {
			return nil, fmt.Errorf("repomd.xml data %q: %w", d.Type, err)
		}
		if df.Size < 0 || df.OpenSize < 0 {
			return nil, fmt.Errorf("repomd.xml data %q: negative size", d.Type)
		}
		rm.Data[d.Type] = df
	}
	if _, ok := rm.Data["primary"]; !ok {
		return nil, errors.New("repomd.xml: no primary data")
	}
	return rm, nil
}

// cleanLocation checks a location href: relative, clean, inside the
// repository.
func cleanLocation(href string) (string, error) {
	if href == "" {
		return "", errors.New("empty location")
	}
	if strings.Contains(href, "://") || strings.HasPrefix(href, "/") || strings.ContainsAny(href, "\\\x00?#") {
		return "", fmt.Errorf("location %q: not a relative path", href)
	}
	// Percent-encoded dots and separators become ".." or "/" once a
	// server decodes the request path.
	if l := strings.ToLower(href); strings.Contains(l, "%2e") || strings.Contains(l, "%2f") || strings.Contains(l, "%5c") {
		return "", fmt.Errorf("location %q: percent-encoded '.', '/' or '\\' (it could leave the repository)", href)
	}
	c := path.Clean(href)
	if c != href || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("location %q: not a clean path inside the repository", href)
	}
	return c, nil
}
