package rpmmd

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
)

// Metalink is what a metalink document says about repomd.xml: where it
// is, and the checksums of its current (and recent alternate) versions.
type Metalink struct {
	// BaseURLs are the repository roots of the listed repomd.xml URLs,
	// in document order.
	BaseURLs []string
	// Hashes are groups of checksums of acceptable repomd.xml versions:
	// the current one first, then alternates. A group holds one checksum
	// per accepted type (md5 is dropped).
	Hashes [][]Checksum
}

// maxMirrorDoc bounds a metalink or mirrorlist document.
const maxMirrorDoc = 8 << 20

// xmlMetalink is the part of a metalink document dnf reads.
type xmlMetalink struct {
	XMLName xml.Name `xml:"metalink"`
	Files   []struct {
		Name         string      `xml:"name,attr"`
		Verification xmlVerify   `xml:"verification"`
		Alternates   []xmlVerify `xml:"alternates>alternate>verification"`
		URLs         []struct {
			Protocol string `xml:"protocol,attr"`
			Value    string `xml:",chardata"`
		} `xml:"resources>url"`
	} `xml:"files>file"`
}

type xmlVerify struct {
	Hashes []struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"hash"`
}

// checksums returns the accepted checksums of a verification element.
func (v xmlVerify) checksums() []Checksum {
	var out []Checksum
	for _, h := range v.Hashes {
		if c, err := newChecksum(h.Type, h.Value); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// IsMetalink reports whether a mirrorlist document is in fact a metalink
// document (dnf accepts either at mirrorlist=).
func IsMetalink(data []byte) bool {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	return bytes.Contains(head, []byte("<metalink"))
}

// ParseMetalink reads the repomd.xml entry of a metalink document. Only
// http(s) URLs ending in repodata/repomd.xml are kept.
func ParseMetalink(data []byte) (*Metalink, error) {
	if len(data) > maxMirrorDoc {
		return nil, fmt.Errorf("metalink: larger than %d bytes", maxMirrorDoc)
	}
	var x xmlMetalink
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&x); err != nil {
		return nil, fmt.Errorf("metalink: %w", err)
	}
	for _, f := range x.Files {
		if f.Name != "repomd.xml" {
			continue
		}
		ml := &Metalink{}
		if cs := f.Verification.checksums(); len(cs) > 0 {
			ml.Hashes = append(ml.Hashes, cs)
		}
		for _, a := range f.Alternates {
			if cs := a.checksums(); len(cs) > 0 {
				ml.Hashes = append(ml.Hashes, cs)
			}
		}
		for _, u := range f.URLs {
			s := strings.TrimSpace(u.Value)
			base, ok := strings.CutSuffix(s, "repodata/repomd.xml")
			if ok && httpURL(base) {
				ml.BaseURLs = append(ml.BaseURLs, base)
			}
		}
		if len(ml.Hashes) == 0 {
			return nil, fmt.Errorf("metalink: repomd.xml has no sha1 or SHA-2 checksum")
		}
		if len(ml.BaseURLs) == 0 {
			return nil, fmt.Errorf("metalink: no http(s) URL of repomd.xml")
		}
		return ml, nil
	}
	return nil, fmt.Errorf("metalink: no repomd.xml entry")
}

// Verify checks repomd.xml against the metalink: every checksum of one
// group must match.
func (m *Metalink) Verify(repomd []byte) error {
	for _, group := range m.Hashes {
		ok := true
		for _, c := range group {
			if c.Verify(repomd) != nil {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("%w: repomd.xml matches none of the metalink's %d checksum sets", ErrChecksum, len(m.Hashes))
}

// ParseMirrorlist reads a mirrorlist document: one base URL a line, "#"
// comments. Only http(s) URLs are kept.
func ParseMirrorlist(data []byte) ([]string, error) {
	if len(data) > maxMirrorDoc {
		return nil, fmt.Errorf("mirrorlist: larger than %d bytes", maxMirrorDoc)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if httpURL(line) {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mirrorlist: no http(s) URL")
	}
	return out, nil
}

// httpURL reports whether s is an absolute http(s) URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Mirror rewrites repositories for mirrors, as --rpm-mirror asks (the
// replacement URLs are checked by the caller). byURL maps a key to its
// replacement: a key that is a repository ID replaces that repository's
// URLs with the value; a URL key that equals or is a prefix (at a path
// boundary) of a baseurl replaces that prefix; a URL key that equals or
// prefixes a repository's mirrorlist or metalink makes the value the
// repository's only baseurl. all, when set, replaces the scheme and host
// (and any path before the baseurl's path) of every other baseurl:
// "http://mirror/x" turns "https://dl.rockylinux.org/pub/rocky/9/…" into
// "http://mirror/x/pub/rocky/9/…". Mirrored repositories are enabled as
// they were.
func Mirror(repos []Repo, all string, byURL map[string]string) []Repo {
	out := make([]Repo, len(repos))
	for i, r := range repos {
		r.BaseURLs = append([]string(nil), r.BaseURLs...)
		if to, ok := byURL[r.ID]; ok {
			r.BaseURLs, r.Mirrorlist, r.Metalink = []string{to}, "", ""
			out[i] = r
			continue
		}
		replaced := false
		for j, b := range r.BaseURLs {
			if u, ok := replacePrefix(b, byURL); ok {
				r.BaseURLs[j], replaced = u, true
			}
		}
		for _, m := range []string{r.Metalink, r.Mirrorlist} {
			if m == "" || replaced {
				continue
			}
			if from, ok := longestKey(m, byURL); ok {
				r.BaseURLs, r.Mirrorlist, r.Metalink, replaced = []string{byURL[from]}, "", "", true
			}
		}
		if !replaced && all != "" {
			for j, b := range r.BaseURLs {
				if u, err := url.Parse(b); err == nil && u.Host != "" {
					r.BaseURLs[j] = strings.TrimSuffix(all, "/") + "/" + strings.TrimPrefix(u.EscapedPath(), "/")
				}
			}
		}
		out[i] = r
	}
	return out
}

// replacePrefix applies the longest matching FROM=TO mirror to u.
func replacePrefix(u string, byURL map[string]string) (string, bool) {
	from, ok := longestKey(u, byURL)
	if !ok {
		return "", false
	}
	f := strings.TrimSuffix(from, "/")
	return strings.TrimSuffix(byURL[from], "/") + strings.TrimPrefix(u, f), true
}

// longestKey returns the longest URL key of byURL that equals u or is a
// prefix of it at a path or query boundary.
func longestKey(u string, byURL map[string]string) (string, bool) {
	best := ""
	for from := range byURL {
		f := strings.TrimSuffix(from, "/")
		if !httpURL(f) {
			continue
		}
		tu := strings.TrimSuffix(u, "/")
		if (tu == f || strings.HasPrefix(tu, f+"/") || strings.HasPrefix(u, f+"?")) && len(f) > len(strings.TrimSuffix(best, "/")) {
			best = from
		}
	}
	return best, best != ""
}
