package patchtest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// Release is the distribution release of a test image.
type Release struct {
	ID, VersionID, Codename string
	// Point is the point release written to etc/debian_version ("12.5").
	Point string
}

// Bookworm is Debian 12.
var Bookworm = Release{ID: "debian", VersionID: "12", Codename: "bookworm", Point: "12.5"}

// ImageSpec describes a test image.
type ImageSpec struct {
	Release Release
	// Platform defaults to linux/amd64.
	OS, Arch string
	// Packages are installed as dpkg would install them.
	Packages []aptrepo.Package
	// UsrMerged makes bin, sbin and lib symlinks into usr in the base
	// layer, and installs packages through them.
	UsrMerged bool
	// Distroless keeps the database in var/lib/dpkg/status.d (with
	// .md5sums files) instead of the status file and info directory.
	Distroless bool
	// SourcesList is etc/apt/sources.list, if not empty.
	SourcesList string
	// Keyring is installed as etc/apt/trusted.gpg.d/patchloop-test.gpg.
	Keyring []byte
	// Held lists packages marked "hold".
	Held []string
	// Changes are files written in a top layer after the packages
	// (a user's edits).
	Changes map[string]string
	// Below are layers put under everything else (filler).
	Below []v1.Layer
}

// Image builds the image described by spec.
func Image(t testing.TB, spec ImageSpec) v1.Image {
	t.Helper()
	if spec.OS == "" {
		spec.OS = "linux"
	}
	if spec.Arch == "" {
		spec.Arch = "amd64"
	}
	layers := slices.Clone(spec.Below)
	layers = append(layers, imagetest.Layer(t, baseEntries(spec)...))
	layers = append(layers, imagetest.Layer(t, installEntries(t, spec)...))
	if len(spec.Changes) > 0 {
		layers = append(layers, imagetest.FilesLayer(t, spec.Changes))
	}
	return imagetest.PlatformImage(t, spec.OS, spec.Arch, layers...)
}

// baseEntries is the release files, apt configuration and, on usr-merged
// images, the top-level symlinks.
func baseEntries(spec ImageSpec) []imagetest.Entry {
	r := spec.Release
	files := map[string]string{
		"etc/os-release": fmt.Sprintf("PRETTY_NAME=\"Test %s\"\nID=%s\nVERSION_ID=\"%s\"\nVERSION_CODENAME=%s\n", r.ID, r.ID, r.VersionID, r.Codename),
	}
	if r.ID == "debian" {
		files["etc/debian_version"] = r.Point + "\n"
	}
	if r.ID == "ubuntu" {
		files["etc/lsb-release"] = fmt.Sprintf("DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=%s\nDISTRIB_CODENAME=%s\n", r.VersionID, r.Codename)
	}
	if spec.SourcesList != "" {
		files["etc/apt/sources.list"] = spec.SourcesList
	}
	if spec.Keyring != nil {
		files["etc/apt/trusted.gpg.d/patchloop-test.gpg"] = string(spec.Keyring)
	}
	entries := imagetest.FileEntries(files)
	if spec.UsrMerged {
		entries = append(entries, imagetest.Dir("usr/"), imagetest.Dir("usr/bin/"), imagetest.Dir("usr/sbin/"), imagetest.Dir("usr/lib/"),
			imagetest.Symlink("bin", "usr/bin"), imagetest.Symlink("sbin", "usr/sbin"), imagetest.Symlink("lib", "usr/lib"))
	}
	return entries
}

// installEntries unpacks the packages and writes their database.
func installEntries(t testing.TB, spec ImageSpec) []imagetest.Entry {
	var entries []imagetest.Entry
	seen := map[string]bool{}
	add := func(e imagetest.Entry) {
		key := strings.TrimSuffix(e.Name, "/")
		if seen[key] {
			return
		}
		seen[key] = true
		entries = append(entries, e)
	}
	var status bytes.Buffer
	for _, p := range spec.Packages {
		data := BuildDeb(t, p)
		r, err := deb.NewReader(context.Background(), bytes.NewReader(data))
		if err != nil {
			t.Fatalf("patchtest: %s: %v", p.Name, err)
		}
		info := r.Info()
		var list strings.Builder
		list.WriteString("/.\n")
		contents := map[string][]byte{}
		for {
			e, err := r.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("patchtest: %s: %v", p.Name, err)
			}
			if e.Path == "." {
				continue
			}
			list.WriteString("/" + e.Path + "\n")
			target := e.Path
			if spec.UsrMerged {
				first, _, _ := strings.Cut(e.Path, "/")
				if first == "bin" || first == "sbin" || first == "lib" {
					if e.Path == first {
						continue // the symlink stays
					}
					target = "usr/" + e.Path
				}
			}
			switch e.Type {
			case deb.TypeDir:
				add(imagetest.Entry{Name: target + "/", Type: tar.TypeDir, Mode: int64(e.Mode.Perm())})
			case deb.TypeSymlink:
				add(imagetest.Symlink(target, e.Linkname))
			case deb.TypeHardlink:
				add(imagetest.Hardlink(target, e.Linkname))
			default:
				body, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				contents[e.Path] = body
				add(imagetest.Entry{Name: target, Type: tar.TypeReg, Mode: int64(e.Mode.Perm()), Body: string(body)})
			}
		}
		_ = r.Close()
		var conffiles []string
		for _, c := range info.Conffiles {
			sum := md5.Sum(contents[c.Path])
			conffiles = append(conffiles, "/"+c.Path+" "+hex.EncodeToString(sum[:]))
		}
		want := "install"
		if slices.Contains(spec.Held, p.Name) {
			want = "hold"
		}
		ctl := info.Control
		var rec deb.Paragraph
		for _, f := range ctl.Fields {
			rec.Fields = append(rec.Fields, f)
			if f.Name == "Package" && !spec.Distroless {
				rec.Fields = append(rec.Fields, deb.Field{Name: "Status", Value: want + " ok installed"})
			}
		}
		if len(conffiles) > 0 {
			rec.Set("Conffiles", "\n"+strings.Join(conffiles, "\n"))
		}
		text, err := rec.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		name := p.Name
		if ma := ctl.Get("Multi-Arch"); ma == "same" {
			name += ":" + ctl.Get("Architecture")
		}
		if spec.Distroless {
			add(imagetest.File("var/lib/dpkg/status.d/"+p.Name, string(text)))
			add(imagetest.File("var/lib/dpkg/status.d/"+p.Name+".md5sums", string(info.Files["md5sums"])))
			continue
		}
		status.Write(text)
		status.WriteByte('\n')
		add(imagetest.File("var/lib/dpkg/info/"+name+".list", list.String()))
		if sums, ok := info.Files["md5sums"]; ok {
			add(imagetest.File("var/lib/dpkg/info/"+name+".md5sums", string(sums)))
		}
		if cf, ok := info.Files["conffiles"]; ok {
			add(imagetest.File("var/lib/dpkg/info/"+name+".conffiles", string(cf)))
		}
	}
	if !spec.Distroless {
		add(imagetest.File("var/lib/dpkg/status", status.String()))
	}
	// Parents before children, as image builders write them.
	dirs := map[string]bool{}
	for _, e := range entries {
		for d := path.Dir(strings.TrimSuffix(e.Name, "/")); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var out []imagetest.Entry
	for d := range dirs {
		if !seen[d] && !(spec.UsrMerged && (d == "bin" || d == "sbin" || d == "lib")) {
			out = append(out, imagetest.Dir(d+"/"))
		}
	}
	out = append(out, entries...)
	slices.SortStableFunc(out, func(a, b imagetest.Entry) int {
		return strings.Compare(strings.TrimSuffix(a.Name, "/"), strings.TrimSuffix(b.Name, "/"))
	})
	return out
}

// BuildDeb builds a package exactly as aptrepo serves it.
func BuildDeb(t testing.TB, p aptrepo.Package) []byte {
	t.Helper()
	return aptrepo.BuildDeb(t, p)
}
