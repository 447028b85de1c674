package apt

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const sampleRelease = `Origin: Debian
Label: Debian-Security
Suite: stable-security
Version: 12
Codename: bookworm-security
Date: Tue, 05 Nov 2024 18:11:50 UTC
Valid-Until: Tue, 12 Nov 2024 18:11:50 UTC
Acquire-By-Hash: yes
No-Support-for-Architecture-all: Packages
Architectures: amd64 arm64 armel armhf i386 mips64el ppc64el s390x
Components: updates/main updates/contrib updates/non-free updates/non-free-firmware main contrib non-free non-free-firmware
Description: Debian 12 - Security Updates
MD5Sum:
 0b8e3ed4ad5f6e7a89b4e8a7a14b5a8d  1234 main/binary-amd64/Packages
SHA256:
 6d3fce9d5c0dfe1b2c4b8e5b3a7c9f0e1d2c3b4a5968778695a4b3c2d1e0f9a8   1234 main/binary-amd64/Packages
 1F2E3D4C5B6A79880716253443526170819A0B1C2D3E4F5061728394A5B6C7D8    567 main/binary-amd64/Packages.xz
 0000000000000000000000000000000000000000000000000000000000000000 0 main/Contents-amd64.gz
`

func TestParseRelease(t *testing.T) {
	r, err := ParseRelease([]byte(sampleRelease))
	if err != nil {
		t.Fatal(err)
	}
	if r.Origin != "Debian" || r.Label != "Debian-Security" || r.Suite != "stable-security" || r.Codename != "bookworm-security" || r.Version != "12" {
		t.Errorf("identity = %+v", r)
	}
	if want := time.Date(2024, 11, 5, 18, 11, 50, 0, time.UTC); !r.Date.Equal(want) {
		t.Errorf("Date = %v", r.Date)
	}
	if want := time.Date(2024, 11, 12, 18, 11, 50, 0, time.UTC); !r.ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v", r.ValidUntil)
	}
	if !r.AcquireByHash || len(r.Architectures) != 8 || r.Architectures[0] != "amd64" || len(r.Components) != 8 {
		t.Errorf("lists = %v %v %v", r.AcquireByHash, r.Architectures, r.Components)
	}
	want := map[string]IndexFile{
		"main/binary-amd64/Packages":    {"main/binary-amd64/Packages", 1234, "6d3fce9d5c0dfe1b2c4b8e5b3a7c9f0e1d2c3b4a5968778695a4b3c2d1e0f9a8"},
		"main/binary-amd64/Packages.xz": {"main/binary-amd64/Packages.xz", 567, "1f2e3d4c5b6a79880716253443526170819a0b1c2d3e4f5061728394a5b6c7d8"},
		"main/Contents-amd64.gz":        {"main/Contents-amd64.gz", 0, strings.Repeat("0", 64)},
	}
	if !reflect.DeepEqual(r.Files, want) {
		t.Errorf("Files = %+v", r.Files)
	}
	if err := r.CheckFresh(time.Date(2024, 11, 12, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("fresh release: %v", err)
	}
	if err := r.CheckFresh(time.Date(2024, 11, 13, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("expired release accepted")
	}
}

func TestParseReleaseTimeForms(t *testing.T) {
	want := time.Date(2024, 6, 8, 9, 0, 0, 0, time.UTC)
	for _, s := range []string{"Sat, 08 Jun 2024 09:00:00 UTC", "Sat, 8 Jun 2024 09:00:00 UTC", "Sat,  8 Jun 2024 09:00:00 UTC", "Sat, 08 Jun 2024 11:00:00 +0200"} {
		got, err := parseReleaseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
}

func TestParseReleaseErrors(t *testing.T) {
	line := " " + strings.Repeat("a", 64) + " 1 main/binary-amd64/Packages\n"
	for name, in := range map[string]string{
		"no checksums":  "Suite: x\nMD5Sum:\n abc 1 main/binary-amd64/Packages\n",
		"no suite":      "Origin: x\nSHA256:\n" + line,
		"bad date":      "Suite: x\nDate: yesterday\nSHA256:\n" + line,
		"bad valid":     "Suite: x\nValid-Until: soon\nSHA256:\n" + line,
		"short sum":     "Suite: x\nSHA256:\n abc 1 main/binary-amd64/Packages\n",
		"bad size":      "Suite: x\nSHA256:\n" + strings.Repeat("a", 64) + " -1 x\n",
		"escaping path": "Suite: x\nSHA256:\n " + strings.Repeat("a", 64) + " 1 ../x\n",
		"two stanzas":   "Suite: x\n\nSuite: y\n",
	} {
		if _, err := ParseRelease([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
