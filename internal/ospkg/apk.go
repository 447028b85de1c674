package ospkg

import (
	"bytes"
	"fmt"
)

// apkInstalledFile is the apk database.
const apkInstalledFile = "lib/apk/db/installed"

// parseApkInstalled reads lib/apk/db/installed: records of "X:value" lines
// separated by blank lines, of which P (name), V (version), A (arch) and o
// (origin, the source package) are used. Versions are kept as written
// ("1.2.3-r0"); a record without name or version is an error naming its line.
func parseApkInstalled(data []byte) ([]Package, error) {
	var (
		pkgs     []Package
		cur      Package
		start    int
		inRecord bool
	)
	flush := func() error {
		if !inRecord {
			return nil
		}
		inRecord = false
		if cur.Name == "" || cur.Version == "" {
			return fmt.Errorf("line %d: record without P: name or V: version", start)
		}
		if cur.SrcName == "" {
			cur.SrcName = cur.Name
		}
		cur.ID, cur.Type, cur.SrcVersion = cur.Name+"@"+cur.Version, Apk, cur.Version
		pkgs = append(pkgs, cur)
		cur = Package{}
		return nil
	}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if len(l) < 2 || l[1] != ':' {
			return nil, fmt.Errorf("line %d: malformed line %q", lineNo, truncate(string(l), 40))
		}
		if !inRecord {
			inRecord, start = true, lineNo
		}
		v := string(l[2:])
		switch l[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'o':
			cur.SrcName = v
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return pkgs, nil
}
