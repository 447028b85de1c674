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
	// Line is the field's line number.
	Line int
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
// that is not "X:value" is an error naming its line number, and so are a
// line over MaxLineSize and a record over MaxApkRecordSize (matching
// ErrTooLarge).
func ReadApkRecords(data []byte) ([]ApkRecord, error) {
	var recs []ApkRecord
	err := EachApkRecord(data, nil, func(r ApkRecord) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// EachApkRecord reads records as ReadApkRecords does and calls fn for each
// in turn, so that only one record is held at a time. keep, when not nil,
// lists the field keys stored in the records fn sees; the other lines are
// checked and counted against the caps but not stored.
func EachApkRecord(data []byte, keep []byte, fn func(ApkRecord) error) error {
	var (
		cur  ApkRecord
		in   bool // inside a record
		size int  // bytes of the current record
	)
	flush := func() error {
		if !in {
			return nil
		}
		in = false
		r := cur
		cur = ApkRecord{}
		return fn(r)
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
			return fmt.Errorf("line %d: %w", lineNo, tooLarge("line", len(l), MaxLineSize))
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) == 0 {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if len(l) < 2 || l[1] != ':' {
			return fmt.Errorf("line %d: malformed line %q", lineNo, truncate(string(l), 40))
		}
		if !in {
			in, size, cur.Line = true, 0, lineNo
		}
		if size += len(l) + 1; size > MaxApkRecordSize {
			return fmt.Errorf("line %d: %w", cur.Line, tooLarge("record", size, MaxApkRecordSize))
		}
		if keep != nil && bytes.IndexByte(keep, l[0]) < 0 {
			continue
		}
		cur.Fields = append(cur.Fields, ApkField{Key: l[0], Value: string(l[2:]), Line: lineNo})
	}
	return flush()
}

// apkFields are the installed-database fields an inventory uses.
var apkFields = []byte("PVAo")

// parseApkInstalled reads lib/apk/db/installed, of which the fields P
// (name), V (version), A (arch) and o (origin, the source package) are
// used. Versions are kept as written ("1.2.3-r0"); a record without name
// or version is an error naming its line. Lines, records, the fields kept
// and the number of packages are capped (MaxLineSize, MaxApkRecordSize,
// MaxIdentitySize, MaxPackages, MaxInventorySize).
func parseApkInstalled(data []byte) ([]Package, error) {
	var pkgs pkgList
	err := EachApkRecord(data, apkFields, func(r ApkRecord) error {
		var p Package
		for _, f := range r.Fields {
			if len(f.Value) > MaxIdentitySize {
				what := "field " + string(f.Key)
				if p.Name != "" {
					what = "package " + p.Name + ": " + what
				}
				return fmt.Errorf("line %d: %w", f.Line, tooLarge(what, len(f.Value), MaxIdentitySize))
			}
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
			return fmt.Errorf("line %d: record without P: name or V: version", r.Line)
		}
		if p.SrcName == "" {
			p.SrcName = p.Name
		}
		p.ID, p.Type, p.SrcVersion = p.Name+"@"+p.Version, Apk, p.Version
		if err := pkgs.add(p); err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
		return nil
	})
	return pkgs.pkgs, err
}
