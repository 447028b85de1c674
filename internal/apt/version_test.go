package apt

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
	if compareLenient("1.0", "not valid!") != 1 || compareLenient("not valid!", "1.0") != -1 {
		t.Error("invalid versions must sort lowest")
	}
}
