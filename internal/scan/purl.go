package scan

import (
	"slices"
	"strconv"
	"strings"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// packageURL returns the package URL Trivy gives an OS package: type deb,
// apk or rpm by family, the epoch moved into a qualifier, qualifiers
// sorted by key. It is empty for families without a package URL type.
func packageURL(os ospkg.OS, p ospkg.Package) string {
	q := map[string]string{}
	if p.Arch != "" {
		q["arch"] = p.Arch
	}
	if p.Epoch != 0 {
		q["epoch"] = strconv.Itoa(p.Epoch)
	}
	version := p.Version
	if p.Release != "" {
		version += "-" + p.Release
	}
	var typ, namespace, name string
	switch ospkg.PkgManagerOf(os.Family) {
	case ospkg.Dpkg:
		typ, namespace, name = "deb", string(os.Family), p.Name
		q["distro"] = string(os.Family) + "-" + os.Name
	case ospkg.Apk:
		typ, namespace, name = "apk", strings.ToLower(string(os.Family)), strings.ToLower(p.Name)
		q["distro"] = os.Name
	case ospkg.RPM:
		typ, namespace, name = "rpm", purlNamespace(os.Family), p.Name
		q["distro"] = string(os.Family) + "-" + os.Name
		if p.Modularitylabel != "" {
			q["modularitylabel"] = p.Modularitylabel
		}
	default:
		if os.Family != ospkg.Bottlerocket {
			return ""
		}
		typ, name = "bottlerocket", p.Name
		q["distro"] = "bottlerocket-" + os.Name
	}
	var b strings.Builder
	b.WriteString("pkg:" + typ + "/")
	if namespace != "" {
		b.WriteString(purlEscape(namespace) + "/")
	}
	b.WriteString(purlEscape(name))
	if version != "" {
		b.WriteString("@" + purlEscape(version))
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		b.WriteString(sep + k + "=" + purlEscape(q[k]))
	}
	return b.String()
}

// purlNamespace is the rpm package URL namespace of a family.
func purlNamespace(f ospkg.Family) string {
	switch f {
	case ospkg.SLES, ospkg.SLEMicro:
		return "suse"
	case ospkg.OpenSUSELeap, ospkg.OpenSUSETumbleweed:
		return "opensuse"
	}
	return string(f)
}

// purlEscape percent-encodes every byte but the unreserved characters
// (letters, digits, '-', '.', '_', '~').
func purlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
