package ospkg

// Family is an OS family, spelled exactly as Trivy spells it.
type Family string

// OS families. The strings are Trivy's (pkg/fanal/types): "opensuse-leap"
// and "opensuse-tumbleweed" replaced the older "opensuse.leap" and
// "opensuse.tumbleweed", which NormalizeFamily still accepts.
const (
	Alma               Family = "alma"
	Alpine             Family = "alpine"
	Amazon             Family = "amazon"
	Azure              Family = "azurelinux"
	Bottlerocket       Family = "bottlerocket"
	CBLMariner         Family = "cbl-mariner"
	CentOS             Family = "centos"
	CentOSStream       Family = "centos-stream"
	Chainguard         Family = "chainguard"
	CoreOS             Family = "coreos"
	Debian             Family = "debian"
	Echo               Family = "echo"
	Fedora             Family = "fedora"
	MinimOS            Family = "minimos"
	OpenSUSELeap       Family = "opensuse-leap"
	OpenSUSETumbleweed Family = "opensuse-tumbleweed"
	Oracle             Family = "oracle"
	Photon             Family = "photon"
	RedHat             Family = "redhat"
	Rocky              Family = "rocky"
	SLEMicro           Family = "slem"
	SLES               Family = "sles"
	Ubuntu             Family = "ubuntu"
	Wolfi              Family = "wolfi"
)

// familyAliases maps older or alternative spellings to the current ones.
var familyAliases = map[string]Family{
	"opensuse.leap":                OpenSUSELeap,
	"opensuse.tumbleweed":          OpenSUSETumbleweed,
	"suse linux enterprise micro":  SLEMicro,
	"suse linux enterprise server": SLES,
	"amazon linux":                 Amazon,
	"debian gnu/linux":             Debian,
}

// NormalizeFamily maps an older family spelling (such as "opensuse.leap")
// to the current one; other strings are returned unchanged.
func NormalizeFamily(s string) Family {
	if f, ok := familyAliases[s]; ok {
		return f
	}
	return Family(s)
}

// osReleaseIDs maps an os-release ID to the family Trivy reports from
// os-release alone. Debian, Ubuntu and Amazon Linux are missing on purpose:
// Trivy identifies them from their own release files only.
var osReleaseIDs = map[string]Family{
	"rhel":                RedHat,
	"centos":              CentOS,
	"rocky":               Rocky,
	"almalinux":           Alma,
	"ol":                  Oracle,
	"fedora":              Fedora,
	"alpine":              Alpine,
	"bottlerocket":        Bottlerocket,
	"opensuse-tumbleweed": OpenSUSETumbleweed,
	"opensuse-leap":       OpenSUSELeap,
	"opensuse":            OpenSUSELeap,
	"sles":                SLES,
	"sle-micro":           SLEMicro,
	"sl-micro":            SLEMicro,
	"sle-micro-rancher":   SLEMicro,
	"photon":              Photon,
	"wolfi":               Wolfi,
	"chainguard":          Chainguard,
	"azurelinux":          Azure,
	"mariner":             CBLMariner,
	"echo":                Echo,
	"minimos":             MinimOS,
	"coreos":              CoreOS,
}

// PkgManager names a package database format.
type PkgManager string

// Package database formats.
const (
	Dpkg PkgManager = "dpkg"
	Apk  PkgManager = "apk"
	RPM  PkgManager = "rpm"
)

// PkgManagerOf returns the package format a family uses, or "" when it has
// none Inspect knows.
func PkgManagerOf(f Family) PkgManager {
	switch f {
	case Debian, Ubuntu, Echo:
		return Dpkg
	case Alpine, Wolfi, Chainguard, MinimOS:
		return Apk
	case Alma, Amazon, Azure, CBLMariner, CentOS, CentOSStream, Fedora, OpenSUSELeap,
		OpenSUSETumbleweed, Oracle, Photon, RedHat, Rocky, SLEMicro, SLES:
		return RPM
	}
	return ""
}
