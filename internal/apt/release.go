package apt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/deb"
)

// Release is the parsed content of a suite's Release file.
type Release struct {
	Origin, Label, Suite, Codename, Version string
	// Date is when the archive was generated.
	Date time.Time
	// ValidUntil is when the file stops being trustworthy; zero when the
	// archive sets no limit.
	ValidUntil    time.Time
	Architectures []string
	Components    []string
	// AcquireByHash reports that indexes can also be fetched by hash.
	AcquireByHash bool
	// Files lists the indexes of the SHA256 field by their path relative
	// to the suite directory ("main/binary-amd64/Packages.xz").
	Files map[string]IndexFile
}

// IndexFile is one entry of a Release file's SHA256 list.
type IndexFile struct {
	Path   string
	Size   int64
	SHA256 string
}

// ParseRelease parses a Release file (or the signed text of an InRelease
// file). Only SHA256 checksums are used; a file without them is rejected.
func ParseRelease(data []byte) (*Release, error) {
	p, err := deb.ParseParagraph(data)
	if err != nil {
		return nil, fmt.Errorf("parsing Release: %w", err)
	}
	r := &Release{
		Origin:        p.Get("Origin"),
		Label:         p.Get("Label"),
		Suite:         p.Get("Suite"),
		Codename:      p.Get("Codename"),
		Version:       p.Get("Version"),
		Architectures: strings.Fields(p.Get("Architectures")),
		Components:    strings.Fields(p.Get("Components")),
		AcquireByHash: strings.EqualFold(p.Get("Acquire-By-Hash"), "yes"),
		Files:         map[string]IndexFile{},
	}
	if r.Suite == "" && r.Codename == "" {
		return nil, fmt.Errorf("parsing Release: neither Suite nor Codename is set")
	}
	if v := p.Get("Date"); v != "" {
		if r.Date, err = parseReleaseTime(v); err != nil {
			return nil, fmt.Errorf("parsing Release: Date: %w", err)
		}
	}
	if v := p.Get("Valid-Until"); v != "" {
		if r.ValidUntil, err = parseReleaseTime(v); err != nil {
			return nil, fmt.Errorf("parsing Release: Valid-Until: %w", err)
		}
	}
	for _, line := range p.Lines("SHA256") {
		f, err := parseIndexLine(line)
		if err != nil {
			return nil, fmt.Errorf("parsing Release: SHA256: %w", err)
		}
		r.Files[f.Path] = f
	}
	if len(r.Files) == 0 {
		return nil, fmt.Errorf("parsing Release: no SHA256 checksums")
	}
	return r, nil
}

// parseIndexLine reads "<sha256> <size> <path>".
func parseIndexLine(line string) (IndexFile, error) {
	fields := strings.Fields(line)
	if len(fields) != 3 {
		return IndexFile{}, fmt.Errorf("malformed line %q", line)
	}
	size, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || size < 0 {
		return IndexFile{}, fmt.Errorf("invalid size in %q", line)
	}
	sum := strings.ToLower(fields[0])
	if !isSHA256(sum) {
		return IndexFile{}, fmt.Errorf("invalid SHA256 in %q", line)
	}
	clean, err := deb.CleanPath(fields[2])
	if err != nil || clean != fields[2] {
		return IndexFile{}, fmt.Errorf("invalid path in %q", line)
	}
	return IndexFile{Path: fields[2], Size: size, SHA256: sum}, nil
}

// releaseTimeLayouts are the RFC 2822 forms archives use: the day with or
// without a leading zero, the zone as a name or a numeric offset.
var releaseTimeLayouts = []string{
	"Mon, _2 Jan 2006 15:04:05 MST",
	"Mon, _2 Jan 2006 15:04:05 -0700",
}

func parseReleaseTime(s string) (time.Time, error) {
	for _, layout := range releaseTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognized time %q", s)
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
