package deb

import "testing"

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"3.0.15-1~deb12u1", "3.0.14-1~deb12u2", 1},
		{"3.0.15-1~deb12u1", "3.0.15-1", -1},
		{"1:1.0", "2.0", 1},
		{"1.0~rc1", "1.0", -1},
		{"2.36-9+deb12u7", "2.36-9+deb12u10", -1},
		{"1.2.13.dfsg-1", "1.2.13.dfsg-1", 0},
	} {
		got, err := CompareVersions(c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := CompareVersions("1.0", "a:b"); err == nil {
		t.Error("invalid version accepted")
	}
	if ValidVersion("not valid!") || !ValidVersion("1:2.3-4") {
		t.Error("ValidVersion is wrong")
	}
}

func TestParseSource(t *testing.T) {
	for field, want := range map[string][2]string{
		"glibc":                      {"glibc", ""},
		"shadow (1:4.13+dfsg1-1)":    {"shadow", "1:4.13+dfsg1-1"},
		"  busybox  ( 1:1.35.0-4 ) ": {"busybox", "1:1.35.0-4"},
		"":                           {"", ""},
		"openssl 3.0.11":             {"openssl", ""},
	} {
		name, version := ParseSource(field)
		if name != want[0] || version != want[1] {
			t.Errorf("ParseSource(%q) = %q, %q; want %q, %q", field, name, version, want[0], want[1])
		}
	}
}
