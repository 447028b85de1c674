package ospkg

import (
	"context"
	"testing"
)

// FuzzDpkgStatus checks that the dpkg status parser never panics, and that
// what it accepts has a name and a version.
func FuzzDpkgStatus(f *testing.F) {
	f.Add([]byte(debianStatus), false)
	f.Add([]byte("Package: base-files\nVersion: 12.4+deb12u5\n"), true)
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1:2.3-4\nSource: b (1:2.3-3)\n\n\n \n"), false)
	f.Add([]byte(" x\n:\n\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, fromDir bool) {
		pkgs, err := parseDpkgStatus(data, fromDir)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.SrcName == "" {
				t.Fatalf("accepted %+v", p)
			}
		}
	})
}

// FuzzApkInstalled checks that the apk database parser never panics.
func FuzzApkInstalled(f *testing.F) {
	f.Add([]byte(alpineInstalled))
	f.Add([]byte("P:a\nV:1-r0\n\n\nP:b\nV:2\no:c\n"))
	f.Add([]byte("P:\nV:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := parseApkInstalled(data)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.ID != p.Name+"@"+p.Version {
				t.Fatalf("accepted %+v", p)
			}
		}
	})
}

// FuzzOSRelease checks os-release and the other release file parsers.
func FuzzOSRelease(f *testing.F) {
	f.Add([]byte("NAME=\"CentOS Stream\"\nID=\"centos\"\nVERSION_ID=\"9\"\n"))
	f.Add([]byte("ID='wolfi'\nVERSION_ID=\"20230201\\\"\"\n# comment\n=\nX\n"))
	f.Add([]byte("DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"))
	f.Add([]byte("Amazon Linux release 2 (Karoo)\n"))
	f.Add([]byte("Red Hat Enterprise Linux release 9.3 (Plow)\n"))
	f.Add([]byte("Microsoft Azure Linux 3.0.20240727\n"))
	f.Add([]byte("https://dl-cdn.alpinelinux.org/alpine/v3.19/main\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files := map[string][]byte{}
		for _, s := range osSources {
			if o, ok := s.parse(data); ok && o.Family == "" {
				t.Fatalf("%s: family-less OS %+v", s.path, o)
			}
			files[s.path] = data
		}
		_, _ = detectOS(files)
		_ = osReleaseHint(data)
		_, _ = parseApkRepositories(data)
	})
}

// FuzzRPMDatabase checks the Berkeley DB and NDB readers and the header
// parser (the SQLite reader is SQLite's own code).
func FuzzRPMDatabase(f *testing.F) {
	bdb := readTestdata(f, "Packages")
	f.Add(bdb)
	blobs, err := readSQLite(context.Background(), readTestdata(f, "rpmdb.sqlite"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(buildNDB(blobs))
	for _, b := range blobs {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		_, _ = readBDB(ctx, data)
		_, _ = readNDB(ctx, data)
		_, _ = parseRPMHeader(data)
	})
}

// FuzzCompare checks that version comparison never panics.
func FuzzCompare(f *testing.F) {
	f.Add("1:2.36-9+deb12u4", "2.36-9")
	f.Add("1.2.4_git20230717-r4", "1.2.4_rc1-r0")
	f.Add("1:1.2.3-4.el9", "1.2.3-4.el9_3")
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, pm := range []PkgManager{Dpkg, Apk, RPM} {
			_, _ = pm.Compare(a, b)
		}
	})
}
