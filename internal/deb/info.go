package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// maxControlSize bounds the decompressed control archive; real ones are a
// few kilobytes, so anything near this is hostile.
const maxControlSize = 64 << 20

// MaintainerScripts lists the maintainer scripts dpkg runs, in the order
// Info.Scripts reports them.
var MaintainerScripts = []string{"preinst", "postinst", "prerm", "postrm"}

// Info is the metadata of a package, from its control archive.
type Info struct {
	// Control is the paragraph of the control file.
	Control Paragraph
	// Conffiles lists the configuration files dpkg preserves on upgrade.
	Conffiles []Conffile
	// MD5Sums lists the checksums of the installed files, in file order.
	MD5Sums []FileSum
	// Scripts names the maintainer scripts present, in the order of
	// MaintainerScripts.
	Scripts []string
	// Files holds every regular file of the control archive (control,
	// md5sums, conffiles, scripts, triggers, shlibs, …) by name.
	Files map[string][]byte
}

// Conffile is one line of the conffiles control file.
type Conffile struct {
	// Path is normalized like Entry.Path ("etc/default/foo").
	Path string
	// RemoveOnUpgrade is set by the "remove-on-upgrade" flag.
	RemoveOnUpgrade bool
}

// FileSum is one line of the md5sums control file.
type FileSum struct {
	// Path is normalized like Entry.Path.
	Path string
	// MD5 is the lower-case hex digest.
	MD5 string
}

// Package returns the Package field of the control file.
func (i *Info) Package() string { return i.Control.Get("Package") }

// Version returns the Version field of the control file.
func (i *Info) Version() string { return i.Control.Get("Version") }

// Architecture returns the Architecture field of the control file.
func (i *Info) Architecture() string { return i.Control.Get("Architecture") }

// readInfo decodes an uncompressed control archive.
func readInfo(r io.Reader) (*Info, error) {
	lr := &limitedReader{r: r, left: maxControlSize}
	tr := tar.NewReader(lr)
	info := &Info{Files: map[string][]byte{}}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name, err := CleanPath(h.Name)
		if err != nil {
			return nil, err
		}
		if strings.Contains(name, "/") {
			continue // Control archives are flat; ignore anything nested.
		}
		if _, dup := info.Files[name]; dup {
			return nil, fmt.Errorf("control member %q appears twice", name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("control member %q: %w", name, err)
		}
		info.Files[name] = data
	}
	return info, info.decode()
}

// decode fills the parsed fields from Files.
func (i *Info) decode() error {
	raw, ok := i.Files["control"]
	if !ok {
		return errors.New("control archive has no control file")
	}
	var err error
	if i.Control, err = ParseParagraph(raw); err != nil {
		return fmt.Errorf("control file: %w", err)
	}
	for _, f := range []string{"Package", "Version"} {
		if i.Control.Get(f) == "" {
			return fmt.Errorf("control file: missing %s", f)
		}
	}
	if i.Conffiles, err = parseConffiles(i.Files["conffiles"]); err != nil {
		return fmt.Errorf("conffiles: %w", err)
	}
	if i.MD5Sums, err = parseMD5Sums(i.Files["md5sums"]); err != nil {
		return fmt.Errorf("md5sums: %w", err)
	}
	for _, s := range MaintainerScripts {
		if _, ok := i.Files[s]; ok {
			i.Scripts = append(i.Scripts, s)
		}
	}
	return nil
}

// parseConffiles reads lines "[flag…] /path".
func parseConffiles(data []byte) ([]Conffile, error) {
	var out []Conffile
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxLineLen)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		var c Conffile
		for _, flag := range fields[:len(fields)-1] {
			if flag != "remove-on-upgrade" {
				return nil, fmt.Errorf("unknown flag %q", flag)
			}
			c.RemoveOnUpgrade = true
		}
		p := fields[len(fields)-1]
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("path %q is not absolute", p)
		}
		var err error
		if c.Path, err = CleanPath(p); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// parseMD5Sums reads lines "<32 hex digits>  <path>".
func parseMD5Sums(data []byte) ([]FileSum, error) {
	var out []FileSum
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxLineLen)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		sum, p, ok := strings.Cut(line, " ")
		p = strings.TrimLeft(p, " *")
		if !ok || len(sum) != 32 || !isHex(sum) || p == "" {
			return nil, fmt.Errorf("malformed line %q", truncate(line))
		}
		clean, err := CleanPath(p)
		if err != nil {
			return nil, err
		}
		out = append(out, FileSum{Path: clean, MD5: strings.ToLower(sum)})
	}
	return out, sc.Err()
}

func isHex(s string) bool {
	return !slices.ContainsFunc([]byte(s), func(c byte) bool {
		return !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
	})
}

// limitedReader fails, rather than stopping quietly, once more than left
// bytes have been read.
type limitedReader struct {
	r    io.Reader
	left int64
}

// Read reads from the archive until the limit is passed.
func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("control archive larger than %d bytes", int64(maxControlSize))
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
