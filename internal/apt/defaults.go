package apt

import (
	"fmt"
	"strconv"
	"strings"
)

// DistroRelease is a release of Debian or Ubuntu known to DefaultSources.
type DistroRelease struct {
	// ID is the os-release ID: "debian" or "ubuntu".
	ID string
	// Version is the os-release VERSION_ID ("12", "24.04").
	Version  string
	Codename string
	// Archived releases have left the regular mirrors.
	Archived bool
}

// distroReleases lists the releases distroless and slim images are built
// from. Ubuntu interim releases are omitted: they leave the mirrors months
// after release.
var distroReleases = []DistroRelease{
	{"debian", "8", "jessie", true},
	{"debian", "9", "stretch", true},
	{"debian", "10", "buster", true},
	{"debian", "11", "bullseye", false},
	{"debian", "12", "bookworm", false},
	{"debian", "13", "trixie", false},
	{"debian", "14", "forky", false},
	{"ubuntu", "14.04", "trusty", false},
	{"ubuntu", "16.04", "xenial", false},
	{"ubuntu", "18.04", "bionic", false},
	{"ubuntu", "20.04", "focal", false},
	{"ubuntu", "22.04", "jammy", false},
	{"ubuntu", "24.04", "noble", false},
	{"ubuntu", "26.04", "resolute", false},
}

// LookupRelease finds a release by os-release ID and either VERSION_ID or
// codename. A Debian point release ("12.5") matches its major version.
func LookupRelease(id, versionOrCodename string) (DistroRelease, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	v := strings.ToLower(strings.TrimSpace(versionOrCodename))
	if id == "debian" {
		v, _, _ = strings.Cut(v, ".")
	}
	for _, r := range distroReleases {
		if r.ID == id && (r.Version == v || r.Codename == v) {
			return r, nil
		}
	}
	return DistroRelease{}, fmt.Errorf("unknown %s release %q", id, versionOrCodename)
}

// DefaultOptions adjusts DefaultSources.
type DefaultOptions struct {
	// Arch is the dpkg architecture of the image; Ubuntu serves amd64 and
	// i386 from archive.ubuntu.com and the others from ports.ubuntu.com.
	// Empty means amd64.
	Arch string
	// Mirrors replaces a default URI (the key, such as
	// "http://deb.debian.org/debian") with another.
	Mirrors map[string]string
}

// The default repository URIs.
const (
	DebianURI         = "http://deb.debian.org/debian"
	DebianSecurityURI = "http://deb.debian.org/debian-security"
	DebianArchiveURI  = "http://archive.debian.org/debian"
	DebianArchiveSec  = "http://archive.debian.org/debian-security"
	UbuntuURI         = "http://archive.ubuntu.com/ubuntu"
	UbuntuPortsURI    = "http://ports.ubuntu.com/ubuntu-ports"
)

// DefaultSources returns the sources an image of the given release would
// use when it carries no sources.list of its own, as distroless images
// don't: the release, its -updates and its security suite. Keyrings are
// left for the caller to set.
func DefaultSources(id, versionOrCodename string, opts DefaultOptions) ([]Source, error) {
	rel, err := LookupRelease(id, versionOrCodename)
	if err != nil {
		return nil, err
	}
	var srcs []Source
	if rel.ID == "debian" {
		srcs = debianSources(rel)
	} else {
		srcs = ubuntuSources(rel, opts.Arch)
	}
	for i := range srcs {
		if m, ok := opts.Mirrors[srcs[i].URI]; ok {
			srcs[i].URI = m
		}
		srcs[i].Origin = fmt.Sprintf("default sources of %s %s", rel.ID, rel.Codename)
	}
	return srcs, nil
}

func debianSources(rel DistroRelease) []Source {
	main := []string{"main"}
	c := rel.Codename
	major, _ := strconv.Atoi(rel.Version)
	// Until buster the security suite was "<codename>/updates".
	security := c + "-security"
	if major <= 10 {
		security = c + "/updates"
	}
	if !rel.Archived {
		return []Source{
			{URI: DebianURI, Suite: c, Components: main},
			{URI: DebianURI, Suite: c + "-updates", Components: main},
			{URI: DebianSecurityURI, Suite: security, Components: main},
		}
	}
	srcs := []Source{{URI: DebianArchiveURI, Suite: c, Components: main, IgnoreValidUntil: true}}
	// archive.debian.org kept -updates suites from buster on.
	if major >= 10 {
		srcs = append(srcs, Source{URI: DebianArchiveURI, Suite: c + "-updates", Components: main, IgnoreValidUntil: true})
	}
	return append(srcs, Source{URI: DebianArchiveSec, Suite: security, Components: main, IgnoreValidUntil: true})
}

func ubuntuSources(rel DistroRelease, arch string) []Source {
	uri := UbuntuPortsURI
	if arch == "" || arch == "amd64" || arch == "i386" {
		uri = UbuntuURI
	}
	comps := []string{"main", "universe"}
	c := rel.Codename
	return []Source{
		{URI: uri, Suite: c, Components: comps},
		{URI: uri, Suite: c + "-updates", Components: comps},
		{URI: uri, Suite: c + "-security", Components: comps},
	}
}
