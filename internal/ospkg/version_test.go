package ospkg

import "testing"

func TestCompare(t *testing.T) {
	tests := []struct {
		pm   PkgManager
		a, b string
		want int
	}{
		{Dpkg, "2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{Dpkg, "1:1.0-1", "2.0-1", 1},
		{Dpkg, "1.0~rc1-1", "1.0-1", -1},
		{Dpkg, "3.0.11-1~deb12u2", "3.0.11-1~deb12u2", 0},
		{Apk, "1.2.4_git20230717-r4", "1.2.4-r0", 1}, // _git is a post-release suffix
		{Apk, "1.2.4_rc1-r0", "1.2.4-r0", -1},
		{Apk, "3.1.4-r5", "3.1.4-r10", -1},
		{Apk, "1.36.1-r15", "1.36.1-r2", 1},
		{RPM, "1:1.2.3-4.el9", "1.2.4-1.el9", 1},
		{RPM, "3.0.7-27.el9", "3.0.7-25.el9_3", 1},
		{RPM, "2.26-64.amzn2.0.1", "2.26-64.amzn2.0.1", 0},
	}
	for _, tt := range tests {
		got, err := tt.pm.Compare(tt.a, tt.b)
		if err != nil || sign(got) != tt.want {
			t.Errorf("%s.Compare(%q, %q) = %d, %v; want %d", tt.pm, tt.a, tt.b, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		pm   PkgManager
		a, b string
	}{{Dpkg, "a:b", "1"}, {Dpkg, "1", ""}, {Apk, "not a version!", "1"}, {Apk, "1", "~"}, {RPM, "", "1"}, {"pacman", "1", "2"}} {
		if _, err := bad.pm.Compare(bad.a, bad.b); err == nil {
			t.Errorf("%s.Compare(%q, %q): no error", bad.pm, bad.a, bad.b)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
