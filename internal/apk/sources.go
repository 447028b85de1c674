package apk

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Source is one repository line of etc/apk/repositories.
type Source struct {
	// URL is the repository; its indexes are at URL/<arch>/APKINDEX.tar.gz.
	URL string
	// Tag pins the repository ("@testing …"): its packages only install
	// for world entries that name the tag.
	Tag string
}

// IndexURL returns the URL of the repository's index for arch.
func (s Source) IndexURL(arch string) string {
	return strings.TrimSuffix(s.URL, "/") + "/" + arch + "/APKINDEX.tar.gz"
}

// PackageURL returns the URL of a package file for arch.
func (s Source) PackageURL(arch string, p *Package) string {
	return strings.TrimSuffix(s.URL, "/") + "/" + arch + "/" + p.FileName()
}

// ParseRepositories reads etc/apk/repositories: one repository URL a
// line, optionally preceded by "@tag"; "#" starts a comment. Lines that
// name local directories (apk's file repositories, such as a mounted CD)
// are returned in skipped: an image's local repositories are not
// reachable from outside it.
func ParseRepositories(data []byte) (srcs []Source, skipped []string, err error) {
	for n, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var s Source
		if strings.HasPrefix(f[0], "@") {
			s.Tag, f = f[0][1:], f[1:]
			if len(f) == 0 || s.Tag == "" {
				return nil, nil, fmt.Errorf("etc/apk/repositories line %d: tag without a repository", n+1)
			}
		}
		if len(f) != 1 {
			return nil, nil, fmt.Errorf("etc/apk/repositories line %d: want one repository, got %q", n+1, strings.Join(f, " "))
		}
		u, perr := url.Parse(f[0])
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			skipped = append(skipped, f[0])
			continue
		}
		s.URL = strings.TrimSuffix(f[0], "/")
		srcs = append(srcs, s)
	}
	return srcs, skipped, nil
}

// Distribution says where a distribution publishes its packages.
type Distribution struct {
	// ID is the os-release ID ("alpine", "wolfi", "chainguard").
	ID string
	// Repositories are the default repository URLs for a release.
	Repositories func(versionID string) ([]string, error)
}

// AlpineMirror is Alpine's content delivery network.
const AlpineMirror = "https://dl-cdn.alpinelinux.org/alpine"

// alpineVersion reads VERSION_ID: "3.22.1" is v3.22; an edge build's
// "3.23.0_alpha20250612" is edge.
var alpineVersion = regexp.MustCompile(`^(\d+)\.(\d+)(\.\d+)?(_.*)?$`)

// DefaultRepositories returns the repositories apk would use on a release
// whose image has no etc/apk/repositories: main and community of the
// release (or of edge) for Alpine, the distribution's own repository for
// Wolfi and Chainguard.
func DefaultRepositories(id, versionID string) ([]Source, error) {
	switch id {
	case "alpine":
		m := alpineVersion.FindStringSubmatch(versionID)
		if m == nil {
			return nil, fmt.Errorf("alpine VERSION_ID %q: not a release version", versionID)
		}
		rel := "v" + m[1] + "." + m[2]
		if strings.HasPrefix(m[4], "_alpha") || strings.HasPrefix(m[4], "_git") {
			rel = "edge"
		}
		return []Source{{URL: AlpineMirror + "/" + rel + "/main"}, {URL: AlpineMirror + "/" + rel + "/community"}}, nil
	case "wolfi":
		return []Source{{URL: "https://packages.wolfi.dev/os"}}, nil
	case "chainguard":
		return []Source{{URL: "https://packages.cgr.dev/os"}}, nil
	}
	return nil, fmt.Errorf("no default apk repositories for os-release ID %q", id)
}

// DefaultKeyNames are the key files a distribution signs its indexes
// with, for messages when an image trusts none.
var DefaultKeyNames = map[string]string{
	"alpine":     "alpine-devel@lists.alpinelinux.org-*.rsa.pub",
	"wolfi":      "wolfi-signing.rsa.pub",
	"chainguard": "chainguard-enterprise.rsa.pub",
}

// releasePath matches the end of an Alpine repository URL: the release
// and the repository ("v3.22/main", "edge/testing").
var releasePath = regexp.MustCompile(`/(v\d+\.\d+|edge|latest-stable)/[^/]+$`)

// Mirror rewrites sources for mirrors, as --apk-mirror asks (the
// replacement URLs are checked by the caller). byURL maps a URL (compared
// without a trailing slash) to its replacement; a key that is a proper
// prefix of a source URL (at a path boundary) replaces that prefix. all,
// when set, replaces the base of every other source: what comes before
// the release and repository of an Alpine URL (".../v3.22/main" keeps
// "v3.22/main"), or the whole URL of a repository without one (Wolfi's
// ".../os").
func Mirror(srcs []Source, all string, byURL map[string]string) []Source {
	out := make([]Source, len(srcs))
	for i, s := range srcs {
		out[i] = s
		if u, ok := replacePrefix(s.URL, byURL); ok {
			out[i].URL = u
			continue
		}
		if all == "" {
			continue
		}
		all := strings.TrimSuffix(all, "/")
		if loc := releasePath.FindStringIndex(s.URL); loc != nil {
			out[i].URL = all + s.URL[loc[0]:]
		} else {
			out[i].URL = all
		}
	}
	return out
}

// replacePrefix applies the longest matching FROM=TO mirror to u.
func replacePrefix(u string, byURL map[string]string) (string, bool) {
	best := ""
	for from := range byURL {
		f := strings.TrimSuffix(from, "/")
		if (u == f || strings.HasPrefix(u, f+"/")) && len(f) > len(strings.TrimSuffix(best, "/")) {
			best = from
		}
	}
	if best == "" {
		return "", false
	}
	f := strings.TrimSuffix(best, "/")
	return strings.TrimSuffix(byURL[best], "/") + u[len(f):], true
}
