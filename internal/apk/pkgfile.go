package apk

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// ScriptNames are the install scripts a package may carry, as named in its
// control member.
var ScriptNames = []string{
	".pre-install", ".post-install", ".pre-upgrade", ".post-upgrade",
	".pre-deinstall", ".post-deinstall", ".trigger",
}

// PkgInfo is the .PKGINFO of a package: "key = value" lines.
type PkgInfo struct {
	Name, Version, Arch, Origin string
	// DataHash is the hex SHA-256 of the data member.
	DataHash string
	// Replaces are the packages whose files this one may overwrite.
	Replaces []string
	// Triggers are the directories the .trigger script watches.
	Triggers []string
	// Fields are every line, in order.
	Fields [][2]string
}

// Get returns the values of a key, in order.
func (pi *PkgInfo) Get(key string) []string {
	var out []string
	for _, f := range pi.Fields {
		if f[0] == key {
			out = append(out, f[1])
		}
	}
	return out
}

// parsePkgInfo reads .PKGINFO.
func parsePkgInfo(data []byte) (*PkgInfo, error) {
	pi := &PkgInfo{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf(".PKGINFO line %d: not \"key = value\"", n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		pi.Fields = append(pi.Fields, [2]string{k, v})
		switch k {
		case "pkgname":
			pi.Name = v
		case "pkgver":
			pi.Version = v
		case "arch":
			pi.Arch = v
		case "origin":
			pi.Origin = v
		case "datahash":
			pi.DataHash = strings.ToLower(v)
		case "replaces":
			pi.Replaces = append(pi.Replaces, strings.Fields(v)...)
		case "triggers":
			pi.Triggers = append(pi.Triggers, strings.Fields(v)...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf(".PKGINFO: %w", err)
	}
	if pi.Name == "" || pi.Version == "" {
		return nil, errors.New(".PKGINFO: no pkgname or pkgver")
	}
	return pi, nil
}

// Script is one install script of a package.
type Script struct {
	// Name is the script's name in the control member (".post-upgrade").
	Name string
	Data []byte
	Mode int64
}

// File is a .apk file verified against the checksum a signed index gives
// for it.
type File struct {
	r       io.ReaderAt
	Info    *PkgInfo
	Scripts []Script
	// Checksum is the checksum of the control member, as the index and
	// the installed database write it.
	Checksum Checksum
	data     member
}

// maxControl bounds the uncompressed control member.
const maxControl = 16 << 20

// OpenFile verifies the .apk in r (size bytes) and reads its control
// member. The control member's digest must equal want (the index's C:
// checksum) and the data member's SHA-256 the datahash of .PKGINFO. The
// package's own signature is not checked: the signed index vouches for
// the package, as apk has it. Errors wrap ErrChecksum when the bytes do
// not match.
func OpenFile(r io.ReaderAt, size int64, want Checksum) (*File, error) {
	alg, wantSum, err := want.digest()
	if err != nil {
		return nil, err
	}
	ms, err := scanMembers(io.NewSectionReader(r, 0, size), maxMembers, nil)
	if err != nil {
		return nil, err
	}
	if len(ms) < 2 {
		return nil, errors.New("not an apk package: fewer than two gzip streams")
	}
	ctl, data := ms[len(ms)-2], ms[len(ms)-1]
	got := ctl.sha1
	if alg == "sha256" {
		got = ctl.sha256
	}
	if !bytes.Equal(got, wantSum) {
		return nil, fmt.Errorf("%w: control checksum is not the index's %s", ErrChecksum, want)
	}
	f := &File{r: r, data: data, Checksum: want}
	if err := f.readControl(ctl); err != nil {
		return nil, err
	}
	if f.Info.DataHash == "" {
		return nil, errors.New(".PKGINFO has no datahash")
	}
	if fmt.Sprintf("%x", data.sha256) != f.Info.DataHash {
		return nil, fmt.Errorf("%w: data SHA-256 %x is not the datahash %s of .PKGINFO", ErrChecksum, data.sha256, f.Info.DataHash)
	}
	return f, nil
}

// readControl reads .PKGINFO and the scripts of the (verified) control
// member.
func (f *File) readControl(m member) error {
	zr, err := gzip.NewReader(io.NewSectionReader(f.r, m.off, m.len))
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(zr, maxControl))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("control: %w", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if name != ".PKGINFO" && !slices.Contains(ScriptNames, name) {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("control: %s: %w", name, err)
		}
		if name == ".PKGINFO" {
			if f.Info, err = parsePkgInfo(b); err != nil {
				return err
			}
			continue
		}
		f.Scripts = append(f.Scripts, Script{Name: name, Data: b, Mode: h.Mode})
	}
	if f.Info == nil {
		return errors.New("control: no .PKGINFO")
	}
	return nil
}

// PAXChecksum is the PAX record in which abuild stores the hex SHA-1 of a
// regular file's content (of a symlink's target for symlinks).
const PAXChecksum = "APK-TOOLS.checksum.SHA1"

// DataReader reads the entries of a package's data member.
type DataReader struct {
	zr *gzip.Reader
	tr *tar.Reader
}

// Data returns a reader of the data member.
func (f *File) Data() (*DataReader, error) {
	zr, err := gzip.NewReader(io.NewSectionReader(f.r, f.data.off, f.data.len))
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	zr.Multistream(false)
	return &DataReader{zr: zr, tr: tar.NewReader(zr)}, nil
}

// Next returns the next entry, its Name a clean relative path without a
// trailing slash. Entries that would escape the root are an error; so is
// an absolute hard link target.
func (d *DataReader) Next() (*tar.Header, error) {
	h, err := d.tr.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("data: %w", err)
	}
	name, err := cleanName(h.Name)
	if err != nil {
		return nil, err
	}
	h.Name = name
	if h.Typeflag == tar.TypeLink {
		if h.Linkname, err = cleanName(h.Linkname); err != nil {
			return nil, fmt.Errorf("hard link %s: %w", name, err)
		}
	}
	return h, nil
}

// Read reads the current entry's content.
func (d *DataReader) Read(p []byte) (int, error) { return d.tr.Read(p) }

// Close releases the decompressor.
func (d *DataReader) Close() error { return d.zr.Close() }

// cleanName makes an entry name relative and clean, rejecting names that
// climb out of the root.
func cleanName(n string) (string, error) {
	c := path.Clean("/" + n)
	if c == "/" {
		return "", fmt.Errorf("entry %q: names the root", n)
	}
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return "", fmt.Errorf("entry %q: climbs out of the root", n)
		}
	}
	return c[1:], nil
}
