package apt

import "testing"

func TestIsOfficialArchive(t *testing.T) {
	for _, tc := range []struct {
		id, uri string
		want    bool
	}{
		{"debian", DebianURI, true},
		{"debian", DebianSecurityURI, true},
		{"debian", DebianArchiveURI, true},
		{"debian", "https://deb.debian.org/debian/", true},
		{"debian", "http://security.debian.org/debian-security", true},
		{"debian", "http://ftp.de.debian.org/debian", true},
		{"ubuntu", UbuntuURI, true},
		{"ubuntu", UbuntuPortsURI, true},
		{"ubuntu", "http://security.ubuntu.com/ubuntu", true},
		{"ubuntu", "http://de.archive.ubuntu.com/ubuntu/", true},
		// Another distribution's archive, or another host.
		{"ubuntu", DebianURI, false},
		{"debian", UbuntuURI, false},
		{"debian", "http://deb.debian.org.evil.example/debian", false},
		{"debian", "http://evil.example/debian", false},
		{"debian", "http://ftp.evil.example.debian.org/debian", false},
		{"ubuntu", "http://ppa.launchpadcontent.net/ubuntu", false},
		{"debian", "http://deb.debian.org/other", false},
		{"debian", "http://user:pw@deb.debian.org/debian", false},
		{"debian", "http://deb.debian.org:8080/debian", false},
		{"debian", "file:///debian", false},
		{"../../../x", DebianURI, false},
		{"x", "http://127.0.0.1/debian", false},
	} {
		if got := IsOfficialArchive(tc.id, tc.uri); got != tc.want {
			t.Errorf("IsOfficialArchive(%q, %q) = %v, want %v", tc.id, tc.uri, got, tc.want)
		}
	}
}

func TestHostKeyringFile(t *testing.T) {
	for id, want := range map[string]string{"debian": "debian-archive-keyring.gpg", "ubuntu": "ubuntu-archive-keyring.gpg", "../../../x": "", "x": "", "Debian": ""} {
		got, ok := HostKeyringFile(id)
		if got != want || ok != (want != "") {
			t.Errorf("HostKeyringFile(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
}
