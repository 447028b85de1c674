package apt

import (
	"net/url"
	"strings"
)

// HostKeyringFile returns the name of the archive keyring a Debian or
// Ubuntu host keeps for the distribution with os-release ID id
// ("debian-archive-keyring.gpg"), and false for any other ID. The name
// never comes from the ID's text, so an image cannot choose a host path.
func HostKeyringFile(id string) (string, bool) {
	switch id {
	case "debian":
		return "debian-archive-keyring.gpg", true
	case "ubuntu":
		return "ubuntu-archive-keyring.gpg", true
	}
	return "", false
}

// officialPaths lists, per distribution, the hosts of its official
// archives and the repository paths they serve.
var officialPaths = map[string]struct {
	hosts []string
	paths []string
}{
	"debian": {
		hosts: []string{"deb.debian.org", "security.debian.org", "archive.debian.org", "ftp.debian.org", "httpredir.debian.org", "security-cdn.debian.org"},
		paths: []string{"/debian", "/debian-security", "/debian-archive/debian", "/debian-archive/debian-security"},
	},
	"ubuntu": {
		hosts: []string{"archive.ubuntu.com", "security.ubuntu.com", "ports.ubuntu.com", "old-releases.ubuntu.com"},
		paths: []string{"/ubuntu", "/ubuntu-ports"},
	},
}

// IsOfficialArchive reports whether uri is an official archive of the
// distribution with os-release ID id: deb.debian.org, security.debian.org,
// archive.debian.org and ftp.<country>.debian.org for Debian;
// archive.ubuntu.com, security.ubuntu.com, ports.ubuntu.com,
// old-releases.ubuntu.com and <country>.archive.ubuntu.com for Ubuntu;
// over http or https, without credentials or a port.
func IsOfficialArchive(id, uri string) bool {
	known, ok := officialPaths[id]
	if !ok {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if !isOfficialHost(id, host, known.hosts) {
		return false
	}
	p := "/" + strings.Trim(u.Path, "/")
	for _, kp := range known.paths {
		if p == kp {
			return true
		}
	}
	return false
}

// isOfficialHost matches host against the distribution's archive hosts
// and their per-country mirrors.
func isOfficialHost(id, host string, hosts []string) bool {
	for _, h := range hosts {
		if host == h {
			return true
		}
	}
	var cc string
	switch id {
	case "debian": // ftp.de.debian.org
		rest, ok := strings.CutPrefix(host, "ftp.")
		if !ok {
			return false
		}
		cc, ok = strings.CutSuffix(rest, ".debian.org")
		if !ok {
			return false
		}
	case "ubuntu": // de.archive.ubuntu.com
		var ok bool
		cc, ok = strings.CutSuffix(host, ".archive.ubuntu.com")
		if !ok {
			return false
		}
	}
	return len(cc) == 2 && cc[0] >= 'a' && cc[0] <= 'z' && cc[1] >= 'a' && cc[1] <= 'z'
}
