package vulndb_test

import (
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/vulndb"
)

func TestEOSL(t *testing.T) {
	// Debian 11's end of life is 2026-08-14 23:59:59 UTC.
	eol := time.Date(2026, 8, 14, 23, 59, 59, 0, time.UTC)
	if vulndb.EOSL("debian", "11.9", eol.Add(-time.Second)) {
		t.Error("debian 11 is supported one second before its end of life")
	}
	if !vulndb.EOSL("debian", "11.9", eol) {
		t.Error("debian 11 is end of life at its end-of-life instant")
	}
	got, ok := vulndb.EndOfLife("debian", "11.9", eol)
	if !ok || !got.Equal(eol) {
		t.Errorf("EndOfLife(debian, 11.9) = %v, %v", got, ok)
	}

	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		family, version string
		want            bool
	}{
		{"debian", "10.13", true},
		{"debian", "12.5", false},
		{"debian", "14", false}, // not on the list yet: assumed supported
		{"ubuntu", "18.04", true},
		{"ubuntu", "18.04-ESM", false},
		{"ubuntu", "20.04", true},
		{"ubuntu", "22.04", false},
		{"ubuntu", "24.10", false},
		{"alpine", "3.18.6", true},
		{"alpine", "3.19.1", false},
		{"alpine", "edge", false},
		{"amazon", "1", true},
		{"amazon", "2018.03", true},
		{"amazon", "2 (Karoo)", false},
		{"amazon", "2023.3.20240304", false},
		{"alma", "8.9", false},
		{"rocky", "9.3", false},
		{"oracle", "7.9", true},
		{"oracle", "8.9", false},
		{"photon", "3.0", true},
		{"photon", "5.0", false},
		{"sles", "15.4", true},
		{"sles", "15.6", false},
		{"slem", "5.0", true},
		{"opensuse-leap", "15.5", true},
		{"opensuse-leap", "15.6", false},
		{"redhat", "6.10", true},
		{"redhat", "7.9", false},
		{"centos", "7.9.2009", true},
		{"centos", "8.4.2105", true},
		{"cbl-mariner", "1.0", false}, // Trivy never flags these
		{"azurelinux", "3.0", false},
		{"wolfi", "", false},
		{"opensuse-tumbleweed", "", false},
		{"gentoo", "2.14", false},
		{"debian", "", false},
	}
	for _, tt := range tests {
		if got := vulndb.EOSL(tt.family, tt.version, at); got != tt.want {
			t.Errorf("EOSL(%q, %q) = %v, want %v", tt.family, tt.version, got, tt.want)
		}
	}
}

func TestEOSLAlpineEdgeAndUbuntuESM(t *testing.T) {
	// Ubuntu 18.04 leaves ESM on 2028-03-31.
	if !vulndb.EOSL("ubuntu", "18.04-ESM", time.Date(2028, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("18.04-ESM should be end of life in April 2028")
	}
	// Alpine edge ends at midnight on 9999-01-01, not at 23:59:59.
	edge, ok := vulndb.EndOfLife("alpine", "edge", time.Time{})
	if !ok || !edge.Equal(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("alpine edge: %v, %v", edge, ok)
	}
}
