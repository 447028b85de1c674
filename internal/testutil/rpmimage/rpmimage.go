// Package rpmimage builds test images of RPM-based distributions: the
// files of packages built by rpmrepo, installed as rpm installs them, and
// an rpm database (SQLite, written by internal/rpmdb) that records them.
package rpmimage

import (
	"archive/tar"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmdb"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// Spec describes an image with rpm packages installed.
type Spec struct {
	// OSRelease is etc/os-release; empty means Rocky Linux 9.3's.
	OSRelease string
	// Packages are installed: their files, and their headers in the
	// database.
	Packages []rpmrepo.Package
	// Repos are .repo files by name, written to ReposDir.
	Repos map[string][]byte
	// ReposDir is where Repos go; empty means etc/yum.repos.d.
	ReposDir string
	// MainConf is written to etc/dnf/dnf.conf when set.
	MainConf string
	// NoKey leaves out the repository key at rpmrepo.KeyPath.
	NoKey bool
	// Files are extra files (keys, configuration) by path.
	Files map[string]string
	// Links are extra symlinks, path to target.
	Links map[string]string
	// DBDir is the database directory; empty means var/lib/rpm.
	DBDir string
	// NDB writes an NDB database (Packages.db and Index.db, as SUSE
	// keeps it) instead of SQLite (rpmdb.sqlite).
	NDB bool
	// Changes are files written in a top layer (a user's edits).
	Changes map[string]string
	// Below are layers put under everything else (filler).
	Below []v1.Layer
	// NoUsrMerge keeps bin, sbin and lib* real directories.
	NoUsrMerge bool
}

// RockyRelease is Rocky Linux 9.3's etc/os-release (shortened).
const RockyRelease = "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPLATFORM_ID=\"platform:el9\"\n"

// LeapRelease is openSUSE Leap 15.6's etc/os-release (shortened).
const LeapRelease = "NAME=\"openSUSE Leap\"\nVERSION=\"15.6\"\nID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.6\"\n"

// AzureRelease is Azure Linux 3.0's etc/os-release (shortened).
const AzureRelease = "NAME=\"Microsoft Azure Linux\"\nVERSION=\"3.0.20240727\"\nID=azurelinux\nVERSION_ID=\"3.0\"\n"

// InstallTime is the time the image's packages were installed.
var InstallTime = time.Unix(1717300000, 0)

// Image builds the image: a base layer with the release, repositories,
// key, users and the packages' files and database, a layer with Changes
// when set, all above Below.
func Image(t testing.TB, spec Spec) v1.Image {
	t.Helper()
	if spec.OSRelease == "" {
		spec.OSRelease = RockyRelease
	}
	if spec.ReposDir == "" {
		spec.ReposDir = "etc/yum.repos.d"
	}
	if spec.DBDir == "" {
		spec.DBDir = "var/lib/rpm"
	}
	files := map[string]imagetest.Entry{}
	put := func(e imagetest.Entry) {
		for _, d := range ancestors(e.Name) {
			if _, ok := files[d]; !ok {
				files[d] = imagetest.Dir(d)
			}
		}
		files[e.Name] = e
	}
	if !spec.NoUsrMerge {
		for _, d := range []string{"bin", "sbin", "lib", "lib64"} {
			put(imagetest.Dir("usr/" + d))
			put(imagetest.Symlink(d, "usr/"+d))
		}
	}
	put(imagetest.File("etc/os-release", spec.OSRelease))
	put(imagetest.File("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\n"))
	put(imagetest.File("etc/group", "root:x:0:\nbin:x:1:\n"))
	if spec.MainConf != "" {
		put(imagetest.File("etc/dnf/dnf.conf", spec.MainConf))
	}
	if !spec.NoKey {
		put(imagetest.File(rpmrepo.KeyPath, string(rpmrepo.RepoKey().PublicArmored())))
	}
	for name, data := range spec.Repos {
		put(imagetest.File(path.Join(spec.ReposDir, name), string(data)))
	}
	for p, body := range spec.Files {
		put(imagetest.File(p, body))
	}
	for p, target := range spec.Links {
		put(imagetest.Symlink(p, target))
	}
	var pkgs []*rpm.Package
	for _, p := range spec.Packages {
		b, err := rpmrepo.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		rp, entries, err := unpack(b.Data, p.NEVRA())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name, "bin/") || strings.HasPrefix(e.Name, "sbin/") || strings.HasPrefix(e.Name, "lib/") || strings.HasPrefix(e.Name, "lib64/") {
				if !spec.NoUsrMerge {
					e.Name = "usr/" + e.Name
				}
			}
			if e.Type == tar.TypeDir {
				if _, ok := files[e.Name]; ok {
					continue
				}
			}
			put(e)
		}
		pkgs = append(pkgs, rp)
	}
	db, err := Database(context.Background(), t.TempDir(), spec.NDB, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range db {
		put(imagetest.File(path.Join(spec.DBDir, name), string(data)))
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	entries := make([]imagetest.Entry, 0, len(names))
	for _, n := range names {
		entries = append(entries, files[n])
	}
	layers := append(slices.Clone(spec.Below), imagetest.Layer(t, entries...))
	if len(spec.Changes) > 0 {
		layers = append(layers, imagetest.FilesLayer(t, spec.Changes))
	}
	return imagetest.Image(t, layers...)
}

// ancestors returns the directories above p, outermost first.
func ancestors(p string) []string {
	var out []string
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}

// unpack reads a package file and returns it with its payload as layer
// entries (paths relative, modes and link targets as rpm installs them).
func unpack(data []byte, name string) (*rpm.Package, []imagetest.Entry, error) {
	rp, err := rpm.ReadPackage(bytes.NewReader(data), name)
	if err != nil {
		return nil, nil, err
	}
	a, err := rp.Payload(rpm.VerifyOptions{})
	if err != nil {
		return nil, nil, err
	}
	defer a.Close()
	var out []imagetest.Entry
	for {
		e, err := a.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		f := e.File
		ent := imagetest.Entry{Name: e.Path, Mode: int64(f.Mode & 0o7777)}
		switch f.Mode & rpm.ModeType {
		case rpm.ModeDir:
			ent.Type = tar.TypeDir
		case rpm.ModeSymlink:
			ent.Type, ent.Linkname = tar.TypeSymlink, f.LinkTo
		default:
			body, err := io.ReadAll(a)
			if err != nil {
				return nil, nil, err
			}
			ent.Type, ent.Body = tar.TypeReg, string(body)
		}
		out = append(out, ent)
	}
	// Build the header from a fresh read: Payload consumed the reader.
	rp2, err := rpm.ReadPackage(bytes.NewReader(data), name)
	if err != nil {
		return nil, nil, err
	}
	return rp2, out, nil
}

// Database returns the files of an rpm database (SQLite, or NDB when ndb)
// recording pkgs as installed (rpmdb.InstalledHeader at InstallTime),
// built in dir, by file name.
func Database(ctx context.Context, dir string, ndb bool, pkgs []*rpm.Package) (map[string][]byte, error) {
	if ndb {
		if err := rpmdb.InitNDB(dir); err != nil {
			return nil, err
		}
	} else if err := initSQLite(ctx, filepath.Join(dir, rpmdb.SQLiteFile)); err != nil {
		return nil, err
	}
	db, err := rpmdb.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		h, err := rpmdb.InstalledHeader(p.Signature, p.Header, InstallTime, uint32(InstallTime.Unix()))
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		if _, err := db.Add(ctx, h); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	if _, err := db.Commit(ctx); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = data
	}
	return out, nil
}

// initSQLite creates an empty rpm SQLite database (its Packages table, as
// rpm creates it; rpmdb.Open adds the index tables).
func initSQLite(ctx context.Context, file string) error {
	dsn := (&url.URL{Scheme: "file", Path: file}).String()
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	if _, err := sdb.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)"); err != nil {
		_ = sdb.Close()
		return err
	}
	return sdb.Close()
}
