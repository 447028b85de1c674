package ospkg

import "strings"

// parseKeyValues reads a shell-style KEY=VALUE file (os-release,
// lsb-release): blank lines and # comments are skipped, values may be
// double-quoted (with backslash escapes) or single-quoted.
func parseKeyValues(data []byte) map[string]string {
	kv := make(map[string]string)
	for _, l := range lines(data) {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	return kv
}

// unquote removes shell quoting from an os-release value.
func unquote(v string) string {
	if len(v) < 2 {
		return v
	}
	switch q := v[0]; {
	case q == '\'' && v[len(v)-1] == '\'':
		return v[1 : len(v)-1]
	case q == '"' && v[len(v)-1] == '"':
		var b strings.Builder
		in := v[1 : len(v)-1]
		for i := 0; i < len(in); i++ {
			if in[i] == '\\' && i+1 < len(in) && strings.IndexByte("\"\\$`", in[i+1]) >= 0 {
				i++
			}
			b.WriteByte(in[i])
		}
		return b.String()
	}
	return v
}

// parseOSRelease reads os-release (etc/os-release, usr/lib/os-release) as
// Trivy does: the family comes from ID, the release from VERSION_ID, and
// CentOS Stream is told from CentOS by NAME.
func parseOSRelease(data []byte) (OS, bool) {
	kv := parseKeyValues(data)
	f, ok := osReleaseIDs[kv["ID"]]
	if !ok || kv["VERSION_ID"] == "" {
		return OS{}, false
	}
	if f == CentOS && kv["NAME"] == "CentOS Stream" {
		f = CentOSStream
	}
	return OS{Family: f, Name: kv["VERSION_ID"]}, true
}

// osReleaseHint returns the family an os-release file claims, including
// the families (Debian, Ubuntu, Amazon Linux) that are reported from their
// own release files. Inspect uses it only to know which files matter.
func osReleaseHint(data []byte) Family {
	kv := parseKeyValues(data)
	switch id := kv["ID"]; id {
	case "debian":
		return Debian
	case "ubuntu":
		return Ubuntu
	case "amzn":
		return Amazon
	default:
		f, _ := parseOSRelease(data)
		return f.Family
	}
}
