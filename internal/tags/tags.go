// Package tags implements the patch tag conventions of a continuous patching
// workflow: which tags are originals and which are patches, what the latest
// patch of an original is, and what the next patch will be tagged.
//
// The rules are those of the reference workflow:
//   - A tag ending in -1 … -999 is an incremental patch tag; the original is
//     what precedes the last '-'.
//   - A tag ending in -N with N > 999 (jammy-20240530) is an original tag.
//   - A tag ending in -patched is the floating patch tag of its original.
//   - With the incremental convention only incremental tags count as the
//     latest patch; with the floating convention only -patched does.
package tags

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Convention is how a workflow names patched images.
type Convention string

// The two tag conventions of workflow config v1.
const (
	Incremental Convention = "incremental"
	Floating    Convention = "floating"
)

// FloatingSuffix is appended to an original tag to form its floating patch tag.
const FloatingSuffix = "-patched"

// MaxPatches is the highest incremental patch number.
const MaxPatches = 999

// ErrTooManyPatches is returned when an original already has patch -999.
var ErrTooManyPatches = errors.New("maximum of 999 incremental patches reached")

// ParseConvention parses a tag convention; the empty string means Incremental.
func ParseConvention(s string) (Convention, error) {
	switch Convention(s) {
	case "", Incremental:
		return Incremental, nil
	case Floating:
		return Floating, nil
	}
	return "", fmt.Errorf("tag convention %q: must be %q or %q", s, Incremental, Floating)
}

// Kind says what role a tag plays.
type Kind int

// Tag kinds.
const (
	Original         Kind = iota // a tag that is not a patch of another
	IncrementalPatch             // original-N with 1 ≤ N ≤ 999
	FloatingPatch                // original-patched
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case IncrementalPatch:
		return "incremental"
	case FloatingPatch:
		return "floating"
	}
	return "original"
}

// Tag is a classified tag.
type Tag struct {
	Name     string // the tag itself
	Kind     Kind
	Original string // the original tag; equal to Name for originals
	Patch    int    // the patch number of an incremental patch, else 0
}

// Classify splits tag on its last '-' and reports what it is.
func Classify(tag string) Tag {
	i := strings.LastIndexByte(tag, '-')
	if i <= 0 {
		return Tag{Name: tag, Kind: Original, Original: tag}
	}
	base, suffix := tag[:i], tag[i+1:]
	if suffix == "patched" {
		return Tag{Name: tag, Kind: FloatingPatch, Original: base}
	}
	if n, ok := patchNumber(suffix); ok {
		return Tag{Name: tag, Kind: IncrementalPatch, Original: base, Patch: n}
	}
	return Tag{Name: tag, Kind: Original, Original: tag}
}

// patchNumber parses an incremental suffix: 1 to 999, digits only, no
// leading zero.
func patchNumber(s string) (int, bool) {
	if s == "" || len(s) > 3 || s[0] == '0' {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPatches {
		return 0, false
	}
	return n, true
}

// IsPatchTag reports whether tag is reserved for patches (-1 … -999 or
// -patched).
func IsPatchTag(tag string) bool { return Classify(tag).Kind != Original }

// Lineage is an original tag and the patch tags that exist for it.
type Lineage struct {
	Original string
	Patches  []int // incremental patch numbers present, ascending
	Floating bool  // whether original-patched exists
	Present  bool  // whether the original tag itself exists (set by Group)
}

// Group sorts a repository's tags into lineages keyed by original tag. Every
// original tag present gets a lineage; patch tags whose original is absent are
// grouped too, so callers can decide what to do with them (Lineage.Present
// tells the two apart). Group takes time linear in the number of tags, plus
// sorting each lineage's patch numbers once; duplicates are ignored.
func Group(all []string) map[string]*Lineage {
	out := make(map[string]*Lineage)
	for _, t := range all {
		c := Classify(t)
		l := out[c.Original]
		if l == nil {
			l = &Lineage{Original: c.Original}
			out[c.Original] = l
		}
		switch c.Kind {
		case Original:
			l.Present = true
		case IncrementalPatch:
			l.Patches = append(l.Patches, c.Patch)
		case FloatingPatch:
			l.Floating = true
		}
	}
	for _, l := range out {
		if len(l.Patches) > 1 {
			slices.Sort(l.Patches)
			l.Patches = slices.Compact(l.Patches)
		}
	}
	return out
}

// Latest returns the latest patch tag of the lineage under convention c, or ""
// when there is none: the highest -N for Incremental, -patched for Floating.
func (l *Lineage) Latest(c Convention) string {
	switch c {
	case Floating:
		if l.Floating {
			return l.Original + FloatingSuffix
		}
	default:
		if n := len(l.Patches); n > 0 {
			return l.Original + "-" + strconv.Itoa(l.Patches[n-1])
		}
	}
	return ""
}

// Next returns the tag the next patch of the lineage gets under convention c:
// the highest existing -N plus one for Incremental (ErrTooManyPatches after
// -999), original-patched for Floating.
func (l *Lineage) Next(c Convention) (string, error) {
	if c == Floating {
		return l.Original + FloatingSuffix, nil
	}
	next := 1
	if n := len(l.Patches); n > 0 {
		next = l.Patches[n-1] + 1
	}
	if next > MaxPatches {
		return "", fmt.Errorf("%s: %w", l.Original, ErrTooManyPatches)
	}
	return l.Original + "-" + strconv.Itoa(next), nil
}

// IsDigestTag reports whether tag is a tag other tools derive from a
// manifest digest to hold what refers to it: sha256-<hex> (the OCI
// referrers tag schema) and cosign's sha256-<hex>.sig, .att and .sbom.
// Such tags name signatures and attachments, never an original image.
func IsDigestTag(tag string) bool {
	rest, ok := strings.CutPrefix(tag, "sha256-")
	if !ok {
		return false
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		switch rest[i:] {
		case ".sig", ".att", ".sbom":
			rest = rest[:i]
		default:
			return false
		}
	}
	if len(rest) != 64 {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
