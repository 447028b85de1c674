package apt

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

const samplePackages = `Package: libssl3
Source: openssl (3.0.15-1~deb12u1)
Version: 3.0.15-1~deb12u1+b1
Installed-Size: 6197
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Depends: libc6 (>= 2.34)
Breaks: libssl1.1 (<< 1.1.1)
Description: Secure Sockets Layer toolkit - shared libraries
Filename: pool/updates/main/o/openssl/libssl3_3.0.15-1~deb12u1+b1_amd64.deb
Size: 2026804
SHA256: 8D7C6F1E2A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5

Package: base-files
Essential: yes
Priority: required
Version: 12.4+deb12u8
Architecture: amd64
Pre-Depends: awk
Provides: base
Replaces: base, dpkg (<= 1.15.0)
Conflicts: base
Filename: pool/main/b/base-files/base-files_12.4+deb12u8_amd64.deb
Size: 70912
SHA256: 0000000000000000000000000000000000000000000000000000000000000001
`

func TestParsePackages(t *testing.T) {
	got, err := ParsePackages(context.Background(), strings.NewReader(samplePackages))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{
			Name: "libssl3", Version: "3.0.15-1~deb12u1+b1", Architecture: "amd64",
			Source: "openssl", SourceVersion: "3.0.15-1~deb12u1",
			Depends: "libc6 (>= 2.34)", Breaks: "libssl1.1 (<< 1.1.1)", MultiArch: "same",
			Filename: "pool/updates/main/o/openssl/libssl3_3.0.15-1~deb12u1+b1_amd64.deb", Size: 2026804,
			SHA256: "8d7c6f1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",
		},
		{
			Name: "base-files", Version: "12.4+deb12u8", Architecture: "amd64",
			Source: "base-files", SourceVersion: "12.4+deb12u8",
			PreDepends: "awk", Provides: "base", Replaces: "base, dpkg (<= 1.15.0)", Conflicts: "base", Essential: true,
			Filename: "pool/main/b/base-files/base-files_12.4+deb12u8_amd64.deb", Size: 70912,
			SHA256: "0000000000000000000000000000000000000000000000000000000000000001",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParsePackagesErrors(t *testing.T) {
	base := "Package: a\nVersion: 1\nArchitecture: all\nFilename: pool/a.deb\nSize: 3\nSHA256: " + strings.Repeat("0", 64) + "\n"
	for name, in := range map[string]string{
		"no version":   strings.Replace(base, "Version: 1\n", "", 1),
		"no filename":  strings.Replace(base, "Filename: pool/a.deb\n", "", 1),
		"escaping":     strings.Replace(base, "pool/a.deb", "../../etc/passwd", 1),
		"bad size":     strings.Replace(base, "Size: 3", "Size: x", 1),
		"no sha256":    strings.Replace(base, "SHA256: "+strings.Repeat("0", 64)+"\n", "", 1),
		"syntax error": "Package a\n",
	} {
		_, err := ParsePackages(context.Background(), strings.NewReader(in))
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ParsePackages(ctx, strings.NewReader(base)); err == nil {
		t.Error("canceled context: no error")
	}
}
