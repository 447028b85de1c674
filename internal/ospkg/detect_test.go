package ospkg

import "testing"

func TestDetectOS(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  OS
	}{
		{"debian 12", map[string]string{
			"etc/debian_version": "12.5\n",
			"etc/os-release":     "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
		}, OS{Debian, "12.5"}},
		{"debian testing", map[string]string{"etc/debian_version": "trixie/sid\n"}, OS{Debian, "trixie/sid"}},
		{"ubuntu 22.04 over its debian_version", map[string]string{
			"etc/debian_version": "bookworm/sid\n",
			"etc/lsb-release":    "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION=\"Ubuntu 22.04.4 LTS\"\n",
			"etc/os-release":     "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n",
		}, OS{Ubuntu, "22.04"}},
		{"alpine", map[string]string{
			"etc/alpine-release": "3.19.1\n",
			"etc/os-release":     "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
		}, OS{Alpine, "3.19.1"}},
		{"centos 7 release file beats os-release", map[string]string{
			"etc/centos-release": "CentOS Linux release 7.9.2009 (Core)\n",
			"etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n",
			"etc/os-release":     "NAME=\"CentOS Linux\"\nVERSION=\"7 (Core)\"\nID=\"centos\"\nVERSION_ID=\"7\"\n",
		}, OS{CentOS, "7.9.2009"}},
		{"centos stream 9", map[string]string{
			"etc/centos-release": "CentOS Stream release 9\n",
			"etc/redhat-release": "CentOS Stream release 9\n",
			"etc/os-release":     "NAME=\"CentOS Stream\"\nVERSION=\"9\"\nID=\"centos\"\nVERSION_ID=\"9\"\n",
		}, OS{CentOSStream, "9"}},
		{"rhel ubi 9", map[string]string{
			"etc/redhat-release": "Red Hat Enterprise Linux release 9.3 (Plow)\n",
			"etc/os-release":     "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"9.3\"\n",
		}, OS{RedHat, "9.3"}},
		{"oracle 7 with a red hat redhat-release", map[string]string{
			"etc/oracle-release": "Oracle Linux Server release 7.9\n",
			"etc/redhat-release": "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n",
		}, OS{Oracle, "7.9"}},
		{"rocky 9", map[string]string{
			"etc/rocky-release":  "Rocky Linux release 9.3 (Blue Onyx)\n",
			"etc/redhat-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
			"etc/system-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
		}, OS{Rocky, "9.3"}},
		{"alma 9", map[string]string{"etc/almalinux-release": "AlmaLinux release 9.3 (Shamrock Pampas Cat)\n"}, OS{Alma, "9.3"}},
		{"fedora 39", map[string]string{
			"etc/fedora-release": "Fedora release 39 (Thirty Nine)\n",
			"etc/redhat-release": "Fedora release 39 (Thirty Nine)\n",
		}, OS{Fedora, "39"}},
		{"amazon linux 2", map[string]string{
			"etc/system-release": "Amazon Linux release 2 (Karoo)\n",
			"etc/os-release":     "NAME=\"Amazon Linux\"\nVERSION=\"2\"\nID=\"amzn\"\nVERSION_ID=\"2\"\n",
		}, OS{Amazon, "2 (Karoo)"}},
		{"amazon linux 2023", map[string]string{"usr/lib/system-release": "Amazon Linux release 2023.3.20240219 (Amazon Linux)\n"}, OS{Amazon, "2023.3.20240219 (Amazon Linux)"}},
		{"amazon linux 1", map[string]string{"etc/system-release": "Amazon Linux AMI release 2018.03\n"}, OS{Amazon, "AMI release 2018.03"}},
		{"mariner from os-release first", map[string]string{
			"etc/mariner-release": "CBL-Mariner 2.0.20220226\nMARINER_BUILD_NUMBER=0d6f0e0\n",
			"etc/os-release":      "NAME=\"Common Base Linux Mariner\"\nVERSION_ID=\"2.0\"\nID=mariner\n",
		}, OS{CBLMariner, "2.0"}},
		{"mariner release file alone", map[string]string{"etc/mariner-release": "CBL-Mariner 1.0.20210901\n"}, OS{CBLMariner, "1.0.20210901"}},
		{"azure linux", map[string]string{"usr/lib/os-release": "NAME=\"Microsoft Azure Linux\"\nVERSION_ID=\"3.0\"\nID=azurelinux\n"}, OS{Azure, "3.0"}},
		{"azure linux release file alone", map[string]string{"etc/azurelinux-release": "Microsoft Azure Linux 3.0.20240727\n"}, OS{Azure, "3.0.20240727"}},
		{"opensuse leap", map[string]string{"etc/os-release": "NAME=\"openSUSE Leap\"\nVERSION_ID=\"15.5\"\nID=\"opensuse-leap\"\n"}, OS{OpenSUSELeap, "15.5"}},
		{"opensuse tumbleweed", map[string]string{"usr/lib/os-release": "NAME=\"openSUSE Tumbleweed\"\nID=\"opensuse-tumbleweed\"\nVERSION_ID=\"20240311\"\n"}, OS{OpenSUSETumbleweed, "20240311"}},
		{"sles", map[string]string{"etc/os-release": "NAME=\"SLES\"\nVERSION_ID=\"15.5\"\nID=\"sles\"\n"}, OS{SLES, "15.5"}},
		{"wolfi single quotes", map[string]string{"etc/os-release": "ID='wolfi'\nVERSION_ID='20230201'\n"}, OS{Wolfi, "20230201"}},
		{"photon", map[string]string{"etc/os-release": "NAME=\"VMware Photon OS\"\nVERSION_ID=5.0\nID=photon\n"}, OS{Photon, "5.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for p, c := range tt.files {
				files[p] = []byte(c)
			}
			got, ok := detectOS(files)
			if !ok || got != tt.want {
				t.Errorf("detectOS = %v, %v; want %v", got, ok, tt.want)
			}
		})
	}
}

func TestDetectOSNone(t *testing.T) {
	for name, files := range map[string]map[string][]byte{
		"empty":               {},
		"debian id only":      {"etc/os-release": []byte("ID=debian\nVERSION_ID=12\n")},
		"no version":          {"etc/os-release": []byte("ID=alpine\n")},
		"unknown distro":      {"etc/os-release": []byte("ID=plan9\nVERSION_ID=4\n")},
		"lsb not ubuntu":      {"etc/lsb-release": []byte("DISTRIB_ID=LinuxMint\nDISTRIB_RELEASE=21\n")},
		"garbage redhat file": {"etc/redhat-release": []byte("hello\n")},
		"empty debian file":   {"etc/debian_version": []byte("\n\n")},
	} {
		if got, ok := detectOS(files); ok {
			t.Errorf("%s: detected %v", name, got)
		}
	}
}

func TestOSVersion(t *testing.T) {
	for o, want := range map[OS]string{
		{Amazon, "2 (Karoo)"}:                      "2",
		{Amazon, "2023.3.20240219 (Amazon Linux)"}: "2023.3.20240219",
		{Debian, "12.5"}:                           "12.5",
		{Debian, ""}:                               "",
	} {
		if got := o.Version(); got != want {
			t.Errorf("%v.Version() = %q, want %q", o, got, want)
		}
	}
	if s := (OS{Ubuntu, "22.04"}).String(); s != "ubuntu/22.04" {
		t.Errorf("String = %q", s)
	}
}

func TestApkRepositories(t *testing.T) {
	got, ok := parseApkRepositories([]byte("https://dl-cdn.alpinelinux.org/alpine/v3.18/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.19/community\n#comment\n"))
	if !ok || *got != (Repository{Alpine, "3.19"}) {
		t.Errorf("got %v %v", got, ok)
	}
	got, ok = parseApkRepositories([]byte("https://dl-cdn.alpinelinux.org/alpine/v3.19/main\nhttps://dl-cdn.alpinelinux.org/alpine/edge/testing\n"))
	if !ok || got.Release != "edge" {
		t.Errorf("edge: got %v %v", got, ok)
	}
	for _, bad := range []string{"", "https://packages.wolfi.dev/os\n", "https://a.org/alpine/v3.19/main\nhttps://b.org/postmarketos/v23.12/main\n"} {
		if got, ok := parseApkRepositories([]byte(bad)); ok {
			t.Errorf("%q: got %v", bad, got)
		}
	}
}

func TestNormalizeFamily(t *testing.T) {
	if NormalizeFamily("opensuse.leap") != OpenSUSELeap || NormalizeFamily("debian") != Debian {
		t.Error("NormalizeFamily")
	}
	if PkgManagerOf(Ubuntu) != Dpkg || PkgManagerOf(Wolfi) != Apk || PkgManagerOf(Rocky) != RPM || PkgManagerOf(Bottlerocket) != "" {
		t.Error("PkgManagerOf")
	}
}
