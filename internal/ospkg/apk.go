package ospkg

import (
	"bytes"
	"fmt"
)

// apkInstalledFile is the apk database.
const apkInstalledFile = "lib/apk/db/installed"

// ApkField is one "X:value" line of an apk database or index record.
type ApkField struct {
	// Key is the single-letter field name ('P', 'V', 'F', …).
	Key byte
	// Value is the text after the colon.
	Value string
}

// ApkRecord is one record of lib/apk/db/installed or an APKINDEX: its
// fields in file order.
type ApkRecord struct {
	// Line is the line number the record starts at.
	Line int
	// Fields are the record's lines, in order.
	Fields []ApkField
}

// Get returns the value of the first field named key, or "".
func (r ApkRecord) Get(key byte) string {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// ReadApkRecords reads the format shared by lib/apk/db/installed and
// APKINDEX: records of "X:value" lines separated by blank lines. A line
// that is not "X:value" is an error naming its line number.
func ReadApkRecords(data []byte) ([]ApkRecord, error) {
	var (
		recs []ApkRecord
		cur  *ApkRecord
	)
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
			cur = nil
			continue
		}
		if len(l) < 2 || l[1] != ':' {
			return nil, fmt.Errorf("line %d: malformed line %q", lineNo, truncate(string(l), 40))
		}
		if cur == nil {
			recs = append(recs, ApkRecord{Line: lineNo})
			cur = &recs[len(recs)-1]
		}
		cur.Fields = append(cur.Fields, ApkField{Key: l[0], Value: string(l[2:])})
	}
	return recs, nil
}

// parseApkInstalled reads lib/apk/db/installed, of which the fields P
// (name), V (version), A (arch) and o (origin, the source package) are
// used. Versions are kept as written ("1.2.3-r0"); a record without name
// or version is an error naming its line.
func parseApkInstalled(data []byte) ([]Package, error) {
	recs, err := ReadApkRecords(data)
	if err != nil {
		return nil, err
	}
	pkgs := make([]Package, 0, len(recs))
	for _, r := range recs {
		var p Package
		for _, f := range r.Fields {
			switch f.Key {
			case 'P':
				p.Name = f.Value
			case 'V':
				p.Version = f.Value
			case 'A':
				p.Arch = f.Value
			case 'o':
				p.SrcName = f.Value
			}
		}
		if p.Name == "" || p.Version == "" {
			return nil, fmt.Errorf("line %d: record without P: name or V: version", r.Line)
		}
		if p.SrcName == "" {
			p.SrcName = p.Name
		}
		p.ID, p.Type, p.SrcVersion = p.Name+"@"+p.Version, Apk, p.Version
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}
