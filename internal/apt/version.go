package apt

import (
	"strings"

	"github.com/patchloop/patchloop/internal/deb"
)

// compareLenient orders versions as deb.CompareVersions does, placing
// unparsable ones below all valid ones.
func compareLenient(a, b string) int {
	va, vb := deb.ValidVersion(a), deb.ValidVersion(b)
	switch {
	case va && vb:
		n, _ := deb.CompareVersions(a, b)
		return n
	case va:
		return 1
	case vb:
		return -1
	}
	return strings.Compare(a, b)
}
