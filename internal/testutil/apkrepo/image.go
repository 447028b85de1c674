package apkrepo

import (
	"archive/tar"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// ImageSpec describes an image with packages installed by apk.
type ImageSpec struct {
	// ID and VersionID are written to etc/os-release; they default to
	// alpine 3.22.1.
	ID, VersionID string
	// Arch is the apk architecture (etc/apk/arch); "x86_64" by default.
	Arch string
	// Packages are installed: their files, records in
	// lib/apk/db/installed and scripts in lib/apk/db/scripts.tar.
	Packages []Package
	// Repositories are the lines of etc/apk/repositories; nil writes no
	// file.
	Repositories []string
	// Keys are installed in etc/apk/keys; nil means IndexKey().
	Keys []*Key
	// World is etc/apk/world; nil means the names of Packages.
	World []string
	// Changes are files written in a top layer (a user's edits).
	Changes map[string]string
	// Below are layers put under everything else (filler).
	Below []v1.Layer
}

// OCIArch maps an apk architecture to the OCI platform's.
func OCIArch(arch string) (string, string) {
	switch arch {
	case "x86_64":
		return "amd64", ""
	case "aarch64":
		return "arm64", ""
	case "x86":
		return "386", ""
	case "armv7":
		return "arm", "v7"
	case "armhf":
		return "arm", "v6"
	}
	return arch, ""
}

// Image builds the image.
func Image(t testing.TB, spec ImageSpec) v1.Image {
	t.Helper()
	if spec.ID == "" {
		spec.ID, spec.VersionID = "alpine", "3.22.1"
	}
	if spec.Arch == "" {
		spec.Arch = "x86_64"
	}
	layers := slices.Clone(spec.Below)
	layers = append(layers, imagetest.Layer(t, imagetest.FileEntries(baseFiles(spec))...))
	layers = append(layers, imagetest.GzipLayer(t, InstallTar(t, spec.Packages)))
	if len(spec.Changes) > 0 {
		layers = append(layers, imagetest.FilesLayer(t, spec.Changes))
	}
	arch, _ := OCIArch(spec.Arch)
	return imagetest.PlatformImage(t, "linux", arch, layers...)
}

// baseFiles are the release and apk configuration files.
func baseFiles(spec ImageSpec) map[string]string {
	files := map[string]string{
		"etc/os-release": fmt.Sprintf("NAME=\"Test %s\"\nID=%s\nVERSION_ID=%s\nPRETTY_NAME=\"Test %s %s\"\n", spec.ID, spec.ID, spec.VersionID, spec.ID, spec.VersionID),
		"etc/apk/arch":   spec.Arch + "\n",
	}
	if spec.ID == "alpine" {
		files["etc/alpine-release"] = spec.VersionID + "\n"
	}
	if spec.Repositories != nil {
		files["etc/apk/repositories"] = strings.Join(spec.Repositories, "\n") + "\n"
	}
	keys := spec.Keys
	if keys == nil {
		keys = []*Key{IndexKey()}
	}
	for _, k := range keys {
		files["etc/apk/keys/"+k.Name] = string(k.PublicPEM())
	}
	world := spec.World
	if world == nil {
		for _, p := range spec.Packages {
			world = append(world, p.Name)
		}
		slices.Sort(world)
	}
	files["etc/apk/world"] = strings.Join(world, "\n") + "\n"
	return files
}

// InstallTar returns the layer apk would write installing the packages:
// their data entries, lib/apk/db/installed, lib/apk/db/scripts.tar and,
// for packages with triggers, lib/apk/db/triggers.
func InstallTar(t testing.TB, pkgs []Package) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[string]bool{}
	var db, triggers strings.Builder
	var scripts []tarFile
	write := func(h *tar.Header, body []byte) {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("apkrepo: %s: %v", h.Name, err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatalf("apkrepo: %s: %v", h.Name, err)
		}
	}
	for _, d := range []string{"lib", "lib/apk", "lib/apk/db"} {
		seen[d] = true
		write(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: BuildTime}, nil)
	}
	for _, p := range pkgs {
		b := Build(t, p)
		for _, e := range b.Entries {
			if seen[e.Path] {
				continue
			}
			seen[e.Path] = true
			h := &tar.Header{Name: e.Path, Typeflag: e.Type, Mode: e.Mode, Uid: e.UID, Gid: e.GID, Linkname: e.Linkname, ModTime: BuildTime, Format: tar.FormatPAX}
			if e.Type == tar.TypeDir {
				h.Name += "/"
			}
			if e.Type == tar.TypeReg {
				h.Size = int64(len(e.Body))
			}
			if len(e.Xattrs) > 0 {
				h.PAXRecords = map[string]string{}
				for k, v := range e.Xattrs {
					h.PAXRecords["SCHILY.xattr."+k] = v
				}
			}
			write(h, []byte(e.Body))
		}
		db.WriteString(b.InstalledRecord())
		if len(p.Triggers) > 0 {
			triggers.WriteString(b.TriggersLine() + "\n")
		}
		for i, n := range b.ScriptNames() {
			scripts = append(scripts, tarFile{name: n, body: b.Scripts[sortedKeys(b.Scripts)[i]]})
		}
	}
	write(&tar.Header{Name: "lib/apk/db/installed", Mode: 0o644, Size: int64(db.Len()), ModTime: BuildTime}, []byte(db.String()))
	if triggers.Len() > 0 {
		write(&tar.Header{Name: "lib/apk/db/triggers", Mode: 0o644, Size: int64(triggers.Len()), ModTime: BuildTime}, []byte(triggers.String()))
	}
	st := scriptsTar(scripts)
	write(&tar.Header{Name: "lib/apk/db/scripts.tar", Mode: 0o644, Size: int64(len(st)), ModTime: BuildTime}, st)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarFile is a file of scripts.tar.
type tarFile struct{ name, body string }

// scriptsTar returns a scripts.tar holding the files, in order, as apk
// writes it (scripts executable).
func scriptsTar(files []tarFile) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body)), ModTime: BuildTime})
		_, _ = tw.Write([]byte(f.body))
	}
	_ = tw.Close()
	return buf.Bytes()
}
