package rpm

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/rpm"
)

func TestDecideConfig(t *testing.T) {
	sum := func(s string) string { return fileDigest(8, []byte(s)) }
	file := func(path, body string, flags rpm.FileFlags) FileInfo {
		return FileInfo{Path: path, Mode: 0o100644, Flags: flags, Digest: sum(body)}
	}
	onDisk := func(body string) imagefs.Node { return imagefs.Node{Kind: imagefs.KindRegular, Content: []byte(body)} }
	noreplace := rpm.FileConfig | rpm.FileNoReplace
	old := file("/etc/foo.conf", "old", noreplace)
	for _, c := range []struct {
		name string
		s    configState
		want fileDecision
	}{
		{"plain file", configState{newFile: file("/usr/bin/foo", "new", 0)}, fileDecision{act: actWrite}},
		{"ghost", configState{newFile: file("/var/log/foo", "", rpm.FileGhost)}, fileDecision{act: actSkip}},
		{"config not in image", configState{newFile: file("/etc/foo.conf", "new", noreplace), old: &old, cur: imagefs.Node{Kind: imagefs.KindAbsent}}, fileDecision{act: actWrite}},
		{"unchanged by user", configState{newFile: file("/etc/foo.conf", "new", noreplace), old: &old, cur: onDisk("old")}, fileDecision{act: actWrite}},
		{"already new", configState{newFile: file("/etc/foo.conf", "new", noreplace), old: &old, cur: onDisk("new")}, fileDecision{act: actWrite}},
		{"unchanged by package", configState{newFile: file("/etc/foo.conf", "old", noreplace), old: &old, cur: onDisk("mine")}, fileDecision{act: actSkip}},
		{"noreplace both changed", configState{newFile: file("/etc/foo.conf", "new", noreplace), old: &old, cur: onDisk("mine")}, fileDecision{act: actAltName}},
		{"config both changed", configState{newFile: file("/etc/foo.conf", "new", rpm.FileConfig), old: &old, cur: onDisk("mine")}, fileDecision{act: actSave, saveAs: "etc/foo.conf.rpmsave"}},
		{"config not owned before", configState{newFile: file("/etc/foo.conf", "new", rpm.FileConfig), cur: onDisk("mine")}, fileDecision{act: actSave, saveAs: "etc/foo.conf.rpmorig"}},
	} {
		c.s.newAlgo, c.s.oldAlgo = 8, 8
		if got := decide(c.s); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestRemovals(t *testing.T) {
	oldFoo := &Package{Name: "foo", Arch: "x86_64", Files: []FileInfo{
		{Path: "/usr/bin/foo", Mode: 0o100755},
		{Path: "/usr/bin/foo-old", Mode: 0o100755},
		{Path: "/usr/share/foo", Mode: 0o40755},
		{Path: "/var/log/foo.log", Mode: 0o100644, Flags: rpm.FileGhost},
		{Path: "/etc/foo.conf", Mode: 0o100644, Flags: rpm.FileConfig},
		{Path: "/usr/lib/foo/moved", Mode: 0o100644},
		{Path: "/bin/foo-compat", Mode: 0o100755},
	}}
	newFoo := &Package{Name: "foo", Arch: "x86_64", Files: []FileInfo{{Path: "/usr/bin/foo", Mode: 0o100755}}}
	newDep := &Package{Name: "foo-libs", Arch: "x86_64", Files: []FileInfo{{Path: "/usr/lib/foo/moved", Mode: 0o100644}}}
	other := &Package{Name: "compat", Arch: "x86_64", Files: []FileInfo{{Path: "/usr/bin/foo-compat", Mode: 0o100755}}}
	var got []string
	for _, r := range removals([]*Package{oldFoo}, []*Package{newFoo, newDep, other}) {
		got = append(got, r.path)
	}
	if want := []string{"etc/foo.conf", "usr/bin/foo-old"}; !slices.Equal(got, want) {
		t.Fatalf("removals %v, want %v", got, want)
	}
}

func TestInstallPolicy(t *testing.T) {
	pol := readInstallPolicy(map[string][]byte{"etc/dnf/dnf.conf": []byte("[main]\ngpgcheck=1\ntsflags=nodocs\n")},
		map[string][]byte{"etc/rpm/macros.image-language-conf": []byte("%_install_langs C.utf8:de\n")})
	for _, c := range []struct {
		f    FileInfo
		want bool
	}{
		{FileInfo{Path: "/usr/bin/x", Mode: 0o100755}, true},
		{FileInfo{Path: "/usr/share/doc/x/README", Mode: 0o100644, Flags: rpm.FileDoc}, false},
		{FileInfo{Path: "/usr/share/doc/x", Mode: 0o40755, Flags: rpm.FileDoc}, true},
		{FileInfo{Path: "/usr/share/locale/de_AT/x.mo", Mode: 0o100644, Lang: "de_AT"}, true},
		{FileInfo{Path: "/usr/share/locale/fr/x.mo", Mode: 0o100644, Lang: "fr"}, false},
		{FileInfo{Path: "/usr/share/locale/C/x.mo", Mode: 0o100644, Lang: "C"}, true},
	} {
		if got := pol.installs(&c.f); got != c.want {
			t.Errorf("%s: installs %v, want %v", c.f.Path, got, c.want)
		}
	}
	if all := readInstallPolicy(nil, nil); !all.installs(&FileInfo{Path: "/d", Mode: 0o100644, Flags: rpm.FileDoc, Lang: "fr"}) {
		t.Error("the default policy leaves a file out")
	}
}

func TestFileConflicts(t *testing.T) {
	reg := func(p, digest string) FileInfo { return FileInfo{Path: p, Mode: 0o100644, Digest: digest} }
	kept := []*Package{
		{Name: "other", Arch: "x86_64", Files: []FileInfo{reg("/usr/share/x", "aa"), reg("/usr/share/same", "bb"), {Path: "/var/log/g", Mode: 0o100644, Flags: rpm.FileGhost}}},
		{Name: "foo", Arch: "i686", Files: []FileInfo{reg("/usr/bin/foo", "cc")}},
	}
	newPkg := func(files ...FileInfo) []*fetched {
		return []*fetched{{pkg: &Package{Name: "foo", Arch: "x86_64", Files: files}}}
	}
	if err := fileConflicts(kept, newPkg(reg("/usr/share/same", "bb"), reg("/usr/bin/foo", "dd"), reg("/var/log/g", "ee"))); err != nil {
		t.Errorf("shared files: %v", err)
	}
	err := fileConflicts(kept, newPkg(reg("/usr/share/x", "ff")))
	if !errors.Is(err, patch.ErrConflict) || !strings.Contains(err.Error(), "/usr/share/x") {
		t.Errorf("err %v, want a conflict on /usr/share/x", err)
	}
}
