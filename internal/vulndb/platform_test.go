package vulndb_test

import (
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/vulndb"
)

func TestPlatform(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		family, version string
		want            string
		ok              bool
	}{
		{"debian", "12.5", "debian 12", true},
		{"debian", "11", "debian 11", true},
		{"ubuntu", "22.04", "ubuntu 22.04", true},
		{"ubuntu", "18.04-ESM", "ubuntu 18.04-ESM", true}, // on Trivy's list as is
		{"ubuntu", "24.04-ESM", "ubuntu 24.04", true},     // 24.04 still in standard support
		{"ubuntu", "20.04-ESM", "ubuntu 20.04-ESM", true},
		{"alpine", "3.19.1", "alpine 3.19", true},
		{"alpine", "3.20", "alpine 3.20", true},
		{"alpine", "edge", "alpine edge", true},
		{"rocky", "9.3", "rocky 9", true},
		{"alma", "8.9", "alma 8", true},
		{"amazon", "2 (Karoo)", "amazon linux 2", true},
		{"amazon", "2023.3.20240304", "amazon linux 2023", true},
		{"amazon", "2018.03", "amazon linux 1", true},
		{"oracle", "8.9", "Oracle Linux 8", true},
		{"cbl-mariner", "2.0.20240123", "CBL-Mariner 2.0", true},
		{"azurelinux", "3.0.20240727", "Azure Linux 3.0", true},
		{"photon", "5.0", "Photon OS 5.0", true},
		{"sles", "15.5", "SUSE Linux Enterprise 15.5", true},
		{"slem", "5.5", "SUSE Linux Enterprise Micro 5.5", true},
		{"opensuse-leap", "15.6", "openSUSE Leap 15.6", true},
		{"opensuse-tumbleweed", "20240601", "openSUSE Tumbleweed", true},
		{"wolfi", "20230201", "wolfi", true},
		{"chainguard", "", "chainguard", true},
		{"echo", "", "echo", true},
		{"minimos", "", "minimos", true},
		{"bottlerocket", "1.20.0", "bottlerocket", true},
		{"debian", "", "", false},
		{"amazon", " ", "", false},
		{"redhat", "9.3", "", false}, // matched by CPE in Trivy: not supported
		{"centos", "7.9.2009", "", false},
		{"coreos", "39", "", false},
		{"gentoo", "2.14", "", false},
	}
	for _, tt := range tests {
		got, ok := vulndb.PlatformAt(tt.family, tt.version, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("PlatformAt(%q, %q) = %q, %v; want %q, %v", tt.family, tt.version, got, ok, tt.want, tt.ok)
		}
	}
	if got, ok := vulndb.Platform("debian", "12.5"); got != "debian 12" || !ok {
		t.Errorf("Platform(debian, 12.5) = %q, %v", got, ok)
	}
}

func TestPlatformUbuntuESMAfterStandardSupport(t *testing.T) {
	// 24.04 standard support ends 2034-03-31; after it, an unknown ESM
	// version is looked up as is.
	late := time.Date(2034, 4, 1, 0, 0, 0, 0, time.UTC)
	if got, _ := vulndb.PlatformAt("ubuntu", "24.04-ESM", late); got != "ubuntu 24.04-ESM" {
		t.Errorf("got %q", got)
	}
}
