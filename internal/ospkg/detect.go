package ospkg

// osSource is one file that can identify the OS.
type osSource struct {
	path  string
	parse func([]byte) (OS, bool)
}

// osSources lists the release files in order of precedence. Trivy runs one
// analyzer per file and keeps the first OS found, except that a Red Hat or
// Debian answer gives way to any other (Oracle Linux ships a redhat-release
// naming Red Hat; Ubuntu ships a debian_version). Here that becomes: the
// first "strong" answer in this order wins, else the first Red Hat or
// Debian one. Specific release files come before os-release so that, as in
// Trivy, CentOS reports "7.9.2009" rather than os-release's "7"; the
// Mariner and Azure Linux release files come after it because Trivy now
// reads those distributions from os-release only.
var osSources = []osSource{
	{"etc/lsb-release", parseLSBRelease},
	{"etc/alpine-release", parseFirstLine(Alpine)},
	{"etc/oracle-release", parseRedHatStyle(Oracle)},
	{"etc/centos-release", parseRedHatStyle(CentOS)},
	{"etc/rocky-release", parseRedHatStyle(Rocky)},
	{"etc/almalinux-release", parseRedHatStyle(Alma)},
	{"etc/fedora-release", parseRedHatStyle(Fedora)},
	{"usr/lib/fedora-release", parseRedHatStyle(Fedora)},
	{"etc/system-release", parseAmazonRelease},
	{"usr/lib/system-release", parseAmazonRelease},
	{"etc/redhat-release", parseRedHatStyle("")},
	{"etc/debian_version", parseFirstLine(Debian)},
	{"etc/os-release", parseOSRelease},
	{"usr/lib/os-release", parseOSRelease},
	{"etc/mariner-release", parseMarinerRelease},
	{"etc/azurelinux-release", parseAzureLinuxRelease},
}

// osReleasePaths are the os-release files, in order of precedence.
var osReleasePaths = []string{"etc/os-release", "usr/lib/os-release"}

// weakFamily reports whether an answer may be overridden by a later one.
func weakFamily(f Family) bool { return f == RedHat || f == Debian }

// detectOS identifies the OS from the release files found (path to content).
func detectOS(files map[string][]byte) (OS, bool) {
	var weak *OS
	for _, src := range osSources {
		data, ok := files[src.path]
		if !ok {
			continue
		}
		o, ok := src.parse(data)
		if !ok {
			continue
		}
		if !weakFamily(o.Family) {
			return o, true
		}
		if weak == nil {
			weak = &o
		}
	}
	if weak != nil {
		return *weak, true
	}
	return OS{}, false
}

// familyFiles lists, for the family an os-release file claims, the release
// files that decide the reported OS. Inspect reads on until they are
// settled, and ignores the other families' files.
var familyFiles = map[Family][]string{
	Debian:       {"etc/debian_version"},
	Ubuntu:       {"etc/lsb-release"},
	Alpine:       {"etc/alpine-release"},
	CentOS:       {"etc/centos-release", "etc/redhat-release"},
	CentOSStream: {"etc/centos-release", "etc/redhat-release"},
	Rocky:        {"etc/rocky-release", "etc/redhat-release"},
	Alma:         {"etc/almalinux-release", "etc/redhat-release"},
	Oracle:       {"etc/oracle-release", "etc/redhat-release"},
	Fedora:       {"etc/fedora-release", "etc/redhat-release"},
	RedHat:       {"etc/redhat-release"},
	Amazon:       {"etc/system-release"},
	CBLMariner:   {"etc/mariner-release"},
	Azure:        {"etc/azurelinux-release"},
}
