package apt_test

import (
	"reflect"
	"testing"

	"github.com/patchloop/patchloop/internal/apt"
)

func suitesOf(srcs []apt.Source) [][3]string {
	var out [][3]string
	for _, s := range srcs {
		comps := ""
		for i, c := range s.Components {
			if i > 0 {
				comps += " "
			}
			comps += c
		}
		out = append(out, [3]string{s.URI, s.Suite, comps})
	}
	return out
}

func TestDefaultSources(t *testing.T) {
	for _, c := range []struct {
		id, version string
		opts        apt.DefaultOptions
		want        [][3]string
		archived    bool
	}{
		{"debian", "12", apt.DefaultOptions{}, [][3]string{
			{"http://deb.debian.org/debian", "bookworm", "main"},
			{"http://deb.debian.org/debian", "bookworm-updates", "main"},
			{"http://deb.debian.org/debian-security", "bookworm-security", "main"},
		}, false},
		{"debian", "trixie", apt.DefaultOptions{Arch: "arm64"}, [][3]string{
			{"http://deb.debian.org/debian", "trixie", "main"},
			{"http://deb.debian.org/debian", "trixie-updates", "main"},
			{"http://deb.debian.org/debian-security", "trixie-security", "main"},
		}, false},
		{"debian", "11.9", apt.DefaultOptions{}, [][3]string{
			{"http://deb.debian.org/debian", "bullseye", "main"},
			{"http://deb.debian.org/debian", "bullseye-updates", "main"},
			{"http://deb.debian.org/debian-security", "bullseye-security", "main"},
		}, false},
		{"debian", "10", apt.DefaultOptions{}, [][3]string{
			{"http://archive.debian.org/debian", "buster", "main"},
			{"http://archive.debian.org/debian", "buster-updates", "main"},
			{"http://archive.debian.org/debian-security", "buster/updates", "main"},
		}, true},
		{"debian", "stretch", apt.DefaultOptions{}, [][3]string{
			{"http://archive.debian.org/debian", "stretch", "main"},
			{"http://archive.debian.org/debian-security", "stretch/updates", "main"},
		}, true},
		{"ubuntu", "24.04", apt.DefaultOptions{Arch: "amd64"}, [][3]string{
			{"http://archive.ubuntu.com/ubuntu", "noble", "main universe"},
			{"http://archive.ubuntu.com/ubuntu", "noble-updates", "main universe"},
			{"http://archive.ubuntu.com/ubuntu", "noble-security", "main universe"},
		}, false},
		{"Ubuntu", "jammy", apt.DefaultOptions{Arch: "arm64"}, [][3]string{
			{"http://ports.ubuntu.com/ubuntu-ports", "jammy", "main universe"},
			{"http://ports.ubuntu.com/ubuntu-ports", "jammy-updates", "main universe"},
			{"http://ports.ubuntu.com/ubuntu-ports", "jammy-security", "main universe"},
		}, false},
		{"ubuntu", "20.04", apt.DefaultOptions{Arch: "i386"}, [][3]string{
			{"http://archive.ubuntu.com/ubuntu", "focal", "main universe"},
			{"http://archive.ubuntu.com/ubuntu", "focal-updates", "main universe"},
			{"http://archive.ubuntu.com/ubuntu", "focal-security", "main universe"},
		}, false},
		{"debian", "12", apt.DefaultOptions{Mirrors: map[string]string{apt.DebianURI: "https://mirror.example/debian"}}, [][3]string{
			{"https://mirror.example/debian", "bookworm", "main"},
			{"https://mirror.example/debian", "bookworm-updates", "main"},
			{"http://deb.debian.org/debian-security", "bookworm-security", "main"},
		}, false},
	} {
		srcs, err := apt.DefaultSources(c.id, c.version, c.opts)
		if err != nil {
			t.Errorf("%s %s: %v", c.id, c.version, err)
			continue
		}
		if got := suitesOf(srcs); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: got %q, want %q", c.id, c.version, got, c.want)
		}
		for _, s := range srcs {
			if s.IgnoreValidUntil != c.archived || s.Origin == "" {
				t.Errorf("%s %s: %+v", c.id, c.version, s)
			}
		}
	}
	for _, bad := range [][2]string{{"debian", "99"}, {"ubuntu", "12"}, {"alpine", "3.20"}} {
		if _, err := apt.DefaultSources(bad[0], bad[1], apt.DefaultOptions{}); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestLookupRelease(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"debian", "10"}:    "buster",
		{"debian", "11"}:    "bullseye",
		{"debian", "12"}:    "bookworm",
		{"debian", "13"}:    "trixie",
		{"ubuntu", "20.04"}: "focal",
		{"ubuntu", "22.04"}: "jammy",
		{"ubuntu", "24.04"}: "noble",
		{"ubuntu", "noble"}: "noble",
	} {
		r, err := apt.LookupRelease(in[0], in[1])
		if err != nil || r.Codename != want {
			t.Errorf("LookupRelease(%v) = %+v, %v; want %s", in, r, err, want)
		}
	}
}
