package ospkg

import (
	"reflect"
	"strings"
	"testing"
)

// debianStatus is an excerpt of a Debian 12 var/lib/dpkg/status.
const debianStatus = `Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12986
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Replaces: libc6-amd64
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
 .
 This package includes shared versions of the standard C library.
Homepage: https://www.gnu.org/software/libc/libc.html

Package: login
Status: install ok installed
Priority: required
Architecture: amd64
Source: shadow (1:4.13+dfsg1-1)
Version: 1:4.13+dfsg1-1+b1
Description: system login tools

package: libgcc-s1
status: install ok installed
architecture: amd64
source: gcc-12 (12.2.0-14)
version: 12.2.0-14

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1

Package: libc6
Status: install ok installed
Architecture: i386
Source: glibc
Version: 2.36-9+deb12u4

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: heldpkg
Status: hold ok installed
Architecture: amd64
Version: 0.9

Package: halfpkg
Status: install reinstreq half-installed
Architecture: amd64
Version: 2.0-1
`

func dpkgPkg(id, name, version, release string, epoch int, arch, srcName, srcVersion, srcRelease string, srcEpoch int) Package {
	return Package{ID: id, Type: Dpkg, Name: name, Version: version, Release: release, Epoch: epoch, Arch: arch,
		SrcName: srcName, SrcVersion: srcVersion, SrcRelease: srcRelease, SrcEpoch: srcEpoch}
}

func TestParseDpkgStatus(t *testing.T) {
	got, err := parseDpkgStatus([]byte(debianStatus), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		dpkgPkg("libc6@2.36-9+deb12u4", "libc6", "2.36", "9+deb12u4", 0, "amd64", "glibc", "2.36", "9+deb12u4", 0),
		dpkgPkg("login@1:4.13+dfsg1-1+b1", "login", "4.13+dfsg1", "1+b1", 1, "amd64", "shadow", "4.13+dfsg1", "1", 1),
		dpkgPkg("libgcc-s1@12.2.0-14", "libgcc-s1", "12.2.0", "14", 0, "amd64", "gcc-12", "12.2.0", "14", 0),
		dpkgPkg("tzdata@2024a-0+deb12u1", "tzdata", "2024a", "0+deb12u1", 0, "all", "tzdata", "2024a", "0+deb12u1", 0),
		dpkgPkg("libc6@2.36-9+deb12u4", "libc6", "2.36", "9+deb12u4", 0, "i386", "glibc", "2.36", "9+deb12u4", 0),
		dpkgPkg("heldpkg@0.9", "heldpkg", "0.9", "", 0, "amd64", "heldpkg", "0.9", "", 0),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
	if v := got[1].FullVersion(); v != "1:4.13+dfsg1-1+b1" {
		t.Errorf("FullVersion = %q", v)
	}
	if v := got[1].SrcFullVersion(); v != "1:4.13+dfsg1-1" {
		t.Errorf("SrcFullVersion = %q", v)
	}
}

func TestParseDpkgStatusDir(t *testing.T) {
	// A distroless status.d file: no Status field.
	got, err := parseDpkgStatus([]byte("Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nMaintainer: x\n"), true)
	if err != nil || len(got) != 1 || got[0].ID != "base-files@12.4+deb12u5" {
		t.Fatalf("got %+v, %v", got, err)
	}
	// The same record in var/lib/dpkg/status, without Status, is not installed.
	got, err = parseDpkgStatus([]byte("Package: base-files\nVersion: 12.4+deb12u5\n"), false)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestParseDpkgStatusErrors(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"no colon":            {"Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\ngarbage line\n", "line 6: malformed field"},
		"continuation first":  {" continued\n", "line 1: continuation line"},
		"missing version":     {"Package: a\nStatus: install ok installed\n", "line 1: package a has no Version field"},
		"invalid version":     {"\n\nPackage: a\nStatus: install ok installed\nVersion: 1:x:y z\n", "line 3: package a: version"},
		"invalid src version": {"Package: a\nStatus: install ok installed\nVersion: 1.0\nSource: b (not a version!)\n", "source version"},
		"no package":          {"Status: install ok installed\nVersion: 1\n", "no Package field"},
	} {
		_, err := parseDpkgStatus([]byte(tc.in), false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, tc.want)
		}
	}
}
