package ospkg

import (
	"regexp"

	apkver "github.com/knqyf263/go-apk-version"
)

// apkRepoRe picks the distribution and release out of a repository URL
// such as https://dl-cdn.alpinelinux.org/alpine/v3.19/main.
var apkRepoRe = regexp.MustCompile(`(https*|ftp)://[0-9A-Za-z.-]+/([A-Za-z]+)/v?([0-9A-Za-z_.-]+)/`)

// parseApkRepositories reads etc/apk/repositories and returns the highest
// Alpine release it points at ("edge" beats any number), as Trivy does.
// Files mixing distributions, or naming none, give no repository.
func parseApkRepositories(data []byte) (*Repository, bool) {
	var family, release string
	for _, l := range lines(data) {
		m := apkRepoRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if family != "" && family != m[2] {
			return nil, false
		}
		family = m[2]
		switch {
		case release == "":
			release = m[3]
		case release == "edge" || m[3] == "edge":
			release = "edge"
		default:
			if newer(m[3], release) {
				release = m[3]
			}
		}
	}
	if Family(family) != Alpine || release == "" {
		return nil, false
	}
	return &Repository{Family: Alpine, Release: release}, true
}

// newer reports whether release a is above release b; unparsable releases
// never are.
func newer(a, b string) bool {
	va, err := apkver.NewVersion(a)
	if err != nil {
		return false
	}
	vb, err := apkver.NewVersion(b)
	if err != nil {
		return false
	}
	return va.GreaterThan(vb)
}
