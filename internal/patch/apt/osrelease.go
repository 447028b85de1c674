package apt

import (
	"strings"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// osRelease is what identifies a Debian or Ubuntu release.
type osRelease struct {
	// ID is the os-release ID ("debian", "ubuntu").
	ID string
	// VersionID is VERSION_ID ("12", "24.04"); Codename is
	// VERSION_CODENAME ("bookworm").
	VersionID, Codename string
}

// readOSRelease reads os-release, falling back to debian_version and
// lsb-release for what it lacks.
func readOSRelease(files map[string][]byte) osRelease {
	var r osRelease
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if data, ok := files[p]; ok {
			kv := ospkg.ReleaseFields(data)
			r = osRelease{ID: kv["ID"], VersionID: kv["VERSION_ID"], Codename: kv["VERSION_CODENAME"]}
			break
		}
	}
	if kv := ospkg.ReleaseFields(files["etc/lsb-release"]); kv["DISTRIB_ID"] == "Ubuntu" {
		if r.ID == "" {
			r.ID = "ubuntu"
		}
		if r.VersionID == "" {
			r.VersionID = kv["DISTRIB_RELEASE"]
		}
		if r.Codename == "" {
			r.Codename = kv["DISTRIB_CODENAME"]
		}
	}
	if data, ok := files["etc/debian_version"]; ok && (r.ID == "" || r.ID == "debian") {
		r.ID = "debian"
		if r.VersionID == "" && r.Codename == "" {
			line, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
			// "12.5" names a release; "trixie/sid" a codename.
			line, _, _ = strings.Cut(line, "/")
			if line != "" && line[0] >= '0' && line[0] <= '9' {
				r.VersionID = line
			} else {
				r.Codename = line
			}
		}
	}
	return r
}

// String returns "id version (codename)".
func (r osRelease) String() string {
	s := r.ID
	if r.VersionID != "" {
		s += " " + r.VersionID
	}
	if r.Codename != "" {
		s += " (" + r.Codename + ")"
	}
	return s
}
