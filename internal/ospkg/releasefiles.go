package ospkg

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// lines returns the lines of a small text file, without line ends.
func lines(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out // a line over 1 MiB ends the file early: release files are tiny
}

// firstLine returns the first non-blank line, trimmed.
func firstLine(data []byte) string {
	for _, l := range lines(data) {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// parseFirstLine reads files such as etc/debian_version ("12.5") and
// etc/alpine-release ("3.19.1") whose first line is the release.
func parseFirstLine(f Family) func([]byte) (OS, bool) {
	return func(data []byte) (OS, bool) {
		l := firstLine(data)
		return OS{Family: f, Name: l}, l != ""
	}
}

// parseLSBRelease reads etc/lsb-release, which names Ubuntu's release in
// DISTRIB_RELEASE when DISTRIB_ID is Ubuntu.
func parseLSBRelease(data []byte) (OS, bool) {
	kv := parseKeyValues(data)
	if kv["DISTRIB_ID"] != "Ubuntu" || kv["DISTRIB_RELEASE"] == "" {
		return OS{}, false
	}
	return OS{Family: Ubuntu, Name: kv["DISTRIB_RELEASE"]}, true
}

// redhatRe matches "<name> release <version>" lines of the Red Hat family.
var redhatRe = regexp.MustCompile(`^(.*) release (\d[\d.]*)`)

// redhatNames maps the lower-cased distribution name of a release line to
// its family; names not listed are Red Hat itself.
var redhatNames = map[string]Family{
	"centos": CentOS, "centos linux": CentOS,
	"rocky": Rocky, "rocky linux": Rocky,
	"alma": Alma, "almalinux": Alma, "alma linux": Alma,
	"oracle": Oracle, "oracle linux": Oracle, "oracle linux server": Oracle,
	"fedora": Fedora, "fedora linux": Fedora,
}

// parseRedHatStyle reads a "<name> release <version> (<codename>)" file.
// With only set, the line must name that family (Oracle's file is trusted
// whatever it says); without it, unknown names count as Red Hat.
func parseRedHatStyle(only Family) func([]byte) (OS, bool) {
	return func(data []byte) (OS, bool) {
		m := redhatRe.FindStringSubmatch(firstLine(data))
		if m == nil {
			return OS{}, false
		}
		f, known := redhatNames[strings.ToLower(m[1])]
		switch {
		case only == Oracle:
			f = Oracle
		case only != "" && f != only:
			return OS{}, false
		case !known:
			f = RedHat
		}
		return OS{Family: f, Name: m[2]}, true
	}
}

// parseAmazonRelease reads etc/system-release of Amazon Linux:
// "Amazon Linux release 2 (Karoo)" gives "2 (Karoo)", "Amazon Linux AMI
// release 2018.03" gives "AMI release 2018.03", as Trivy reports them.
func parseAmazonRelease(data []byte) (OS, bool) {
	for _, l := range lines(data) {
		fields := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "Amazon Linux release 2"):
			if len(fields) >= 5 {
				return OS{Family: Amazon, Name: strings.Join(fields[3:], " ")}, true
			}
		case strings.HasPrefix(l, "Amazon Linux"):
			return OS{Family: Amazon, Name: strings.Join(fields[2:], " ")}, true
		}
	}
	return OS{}, false
}

// parseMarinerRelease reads etc/mariner-release: "CBL-Mariner 2.0.20220226".
func parseMarinerRelease(data []byte) (OS, bool) {
	for _, l := range lines(data) {
		if f := strings.Fields(l); len(f) == 2 && strings.EqualFold(f[0], "CBL-Mariner") {
			return OS{Family: CBLMariner, Name: f[1]}, true
		}
	}
	return OS{}, false
}

// parseAzureLinuxRelease reads etc/azurelinux-release, whose first line
// ends with the release: "Microsoft Azure Linux 3.0.20240727".
func parseAzureLinuxRelease(data []byte) (OS, bool) {
	l := firstLine(data)
	f := strings.Fields(l)
	if !strings.Contains(strings.ToLower(l), "azure linux") || len(f) == 0 {
		return OS{}, false
	}
	v := f[len(f)-1]
	if v[0] < '0' || v[0] > '9' {
		return OS{}, false
	}
	return OS{Family: Azure, Name: v}, true
}
