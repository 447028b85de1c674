package deb

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/deb/compression"
)

// File is one filesystem object of a package built by Write.
type File struct {
	// Path is where the object is installed; a leading "/" or "./" is
	// optional.
	Path string
	// Type is TypeRegular, TypeDir, TypeSymlink or TypeHardlink.
	Type EntryType
	// Mode holds permission and special bits; zero means 0644 for regular
	// files, 0755 for directories and 0777 for links.
	Mode fs.FileMode
	UID  int
	GID  int
	// Uname and Gname default to "root".
	Uname, Gname string
	// Linkname is the symlink target, or the path a hard link points to.
	Linkname string
	// Data is the content of a regular file.
	Data []byte
	// Conffile lists the file in conffiles (and so not in md5sums).
	Conffile bool
}

// Spec describes a package for Write.
type Spec struct {
	// Control is the control file; Package, Version and Architecture are
	// required.
	Control Paragraph
	// Files are the contents of the data archive. Missing parent
	// directories are added with mode 0755.
	Files []File
	// Scripts holds maintainer scripts by name (see MaintainerScripts).
	Scripts map[string][]byte
	// Compression is used for both the control and the data archive.
	Compression compression.Format
	// ModTime stamps every archive member; zero means the Unix epoch.
	ModTime time.Time
}

// Write builds the package described by spec and writes it to w. The
// output depends only on spec: files are sorted by path and all archive
// headers carry ModTime, so equal specs give byte-identical packages.
func Write(ctx context.Context, w io.Writer, spec Spec) error {
	for _, f := range []string{"Package", "Version", "Architecture"} {
		if spec.Control.Get(f) == "" {
			return fmt.Errorf("building package: control file has no %s", f)
		}
	}
	name := spec.Control.Get("Package")
	mtime := spec.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	files, err := normalizeFiles(spec.Files)
	if err != nil {
		return fmt.Errorf("building package %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	control, err := buildControlTar(spec, files, mtime)
	if err != nil {
		return fmt.Errorf("building package %s: control archive: %w", name, err)
	}
	data, err := buildDataTar(files, mtime)
	if err != nil {
		return fmt.Errorf("building package %s: data archive: %w", name, err)
	}
	ext := spec.Compression.Ext()
	members := []struct {
		name string
		raw  []byte
	}{
		{"control.tar" + ext, control},
		{"data.tar" + ext, data},
	}
	aw := newArWriter(w, mtime)
	if err := aw.WriteMember("debian-binary", []byte("2.0\n")); err != nil {
		return fmt.Errorf("writing package %s: %w", name, err)
	}
	for _, m := range members {
		if err := ctx.Err(); err != nil {
			return err
		}
		packed, err := compress(m.raw, spec.Compression)
		if err != nil {
			return fmt.Errorf("building package %s: %s: %w", name, m.name, err)
		}
		if err := aw.WriteMember(m.name, packed); err != nil {
			return fmt.Errorf("writing package %s: %w", name, err)
		}
	}
	return nil
}

// normalizeFiles cleans paths, fills defaults, adds missing parent
// directories and sorts by path.
func normalizeFiles(in []File) ([]File, error) {
	byPath := map[string]File{}
	for _, f := range in {
		p, err := CleanPath(f.Path)
		if err != nil {
			return nil, err
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("%s: listed twice", p)
		}
		f.Path = p
		if err := fillFileDefaults(&f); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		byPath[p] = f
	}
	byPath["."] = rootDir(byPath["."])
	for p := range byPath {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if _, ok := byPath[dir]; !ok {
				byPath[dir] = File{Path: dir, Type: TypeDir, Mode: 0o755, Uname: "root", Gname: "root"}
			}
		}
	}
	out := make([]File, 0, len(byPath))
	for _, f := range byPath {
		if f.Type != TypeDir && f.Path != "." && byPath[path.Dir(f.Path)].Type != TypeDir {
			return nil, fmt.Errorf("%s: parent is not a directory", f.Path)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// rootDir returns the root directory entry, keeping a caller-given one.
func rootDir(f File) File {
	if f.Path == "." {
		return f
	}
	return File{Path: ".", Type: TypeDir, Mode: 0o755, Uname: "root", Gname: "root"}
}

func fillFileDefaults(f *File) error {
	switch f.Type {
	case TypeRegular:
		if f.Mode == 0 {
			f.Mode = 0o644
		}
	case TypeDir:
		if f.Mode == 0 {
			f.Mode = 0o755
		}
	case TypeSymlink:
		if f.Linkname == "" {
			return fmt.Errorf("symlink without target")
		}
		if f.Mode == 0 {
			f.Mode = 0o777
		}
	case TypeHardlink:
		target, err := CleanPath(f.Linkname)
		if err != nil {
			return fmt.Errorf("hard link: %w", err)
		}
		f.Linkname = target
		if f.Mode == 0 {
			f.Mode = 0o644
		}
	default:
		return fmt.Errorf("cannot write %s entries", f.Type)
	}
	if f.Conffile && f.Type != TypeRegular {
		return fmt.Errorf("conffile must be a regular file")
	}
	if f.Type != TypeRegular && len(f.Data) > 0 {
		return fmt.Errorf("%s with content", f.Type)
	}
	if f.Uname == "" {
		f.Uname = "root"
	}
	if f.Gname == "" {
		f.Gname = "root"
	}
	return nil
}

// buildControlTar writes the control archive: control, conffiles, md5sums
// and the maintainer scripts.
func buildControlTar(spec Spec, files []File, mtime time.Time) ([]byte, error) {
	control, err := spec.Control.MarshalText()
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for _, f := range files {
		if f.Type == TypeRegular {
			data[f.Path] = f.Data
		}
	}
	var conffiles, sums strings.Builder
	for _, f := range files {
		switch {
		case f.Conffile:
			fmt.Fprintf(&conffiles, "/%s\n", f.Path)
		case f.Type == TypeRegular || f.Type == TypeHardlink:
			// A hard link is a regular file once unpacked, and is
			// checksummed as one.
			body, ok := data[f.Path]
			if f.Type == TypeHardlink {
				body, ok = data[f.Linkname]
			}
			if !ok {
				return nil, fmt.Errorf("%s: hard link to %s, which is not a regular file of the package", f.Path, f.Linkname)
			}
			sum := md5.Sum(body)
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), f.Path)
		}
	}
	members := map[string][]byte{"control": control}
	if conffiles.Len() > 0 {
		members["conffiles"] = []byte(conffiles.String())
	}
	if sums.Len() > 0 {
		members["md5sums"] = []byte(sums.String())
	}
	for name, body := range spec.Scripts {
		if !slices.Contains(MaintainerScripts, name) {
			return nil, fmt.Errorf("unknown maintainer script %q", name)
		}
		members[name] = body
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(tarHeader(File{Path: ".", Type: TypeDir, Mode: 0o755, Uname: "root", Gname: "root"}, mtime)); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		mode := fs.FileMode(0o644)
		if slices.Contains(MaintainerScripts, name) {
			mode = 0o755
		}
		f := File{Path: name, Mode: mode, Uname: "root", Gname: "root", Data: members[name]}
		if err := writeTarFile(tw, f, mtime); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func buildDataTar(files []File, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := writeTarFile(tw, f, mtime); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeTarFile(tw *tar.Writer, f File, mtime time.Time) error {
	if err := tw.WriteHeader(tarHeader(f, mtime)); err != nil {
		return err
	}
	_, err := tw.Write(f.Data)
	return err
}

// tarHeader renders a file as dpkg-deb does: names relative to "./",
// directories with a trailing slash, GNU format.
func tarHeader(f File, mtime time.Time) *tar.Header {
	h := &tar.Header{
		Name:    "./" + f.Path,
		Mode:    TarMode(f.Mode),
		Uid:     f.UID,
		Gid:     f.GID,
		Uname:   f.Uname,
		Gname:   f.Gname,
		ModTime: mtime,
		Format:  tar.FormatGNU,
	}
	switch f.Type {
	case TypeDir:
		h.Typeflag = tar.TypeDir
		h.Name += "/"
		if f.Path == "." {
			h.Name = "./"
		}
	case TypeSymlink:
		h.Typeflag, h.Linkname = tar.TypeSymlink, f.Linkname
	case TypeHardlink:
		h.Typeflag, h.Linkname = tar.TypeLink, "./"+f.Linkname
	default:
		h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
	}
	return h
}

func compress(raw []byte, f compression.Format) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := compression.NewWriter(&buf, f)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
