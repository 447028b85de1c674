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
// Lines, records, the fields kept and the number of packages are capped
// (MaxLineSize, MaxApkRecordSize, MaxIdentitySize, MaxPackages,
// MaxInventorySize).
func parseApkInstalled(data []byte) ([]Package, error) {
	var (
		pkgs     pkgList
		cur      Package
		start    int // line of the record's first field
		size     int // bytes of the record so far
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
		if err := pkgs.add(cur); err != nil {
			return fmt.Errorf("line %d: %w", start, err)
		}
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
		if len(l) > MaxLineSize {
			return nil, fmt.Errorf("line %d: %w", lineNo, tooLarge("line", len(l), MaxLineSize))
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
			inRecord, start, size = true, lineNo, 0
		}
		if size += len(l) + 1; size > MaxApkRecordSize {
			return nil, fmt.Errorf("line %d: %w", start, tooLarge("record", size, MaxApkRecordSize))
		}
		var dst *string
		switch l[0] {
		case 'P':
			dst = &cur.Name
		case 'V':
			dst = &cur.Version
		case 'A':
			dst = &cur.Arch
		case 'o':
			dst = &cur.SrcName
		default:
			continue
		}
		v := l[2:]
		if len(v) > MaxIdentitySize {
			what := "field " + string(l[0])
			if cur.Name != "" {
				what = "package " + cur.Name + ": " + what
			}
			return nil, fmt.Errorf("line %d: %w", lineNo, tooLarge(what, len(v), MaxIdentitySize))
		}
		*dst = string(v)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return pkgs.pkgs, nil
}
