package scan

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// fakeAdvisories serves advisories by package name and records the names
// asked for.
type fakeAdvisories struct {
	byName map[string][]vulndb.Advisory
	asked  []string
}

func (f *fakeAdvisories) Advisories(_ context.Context, _, name string) ([]vulndb.Advisory, error) {
	f.asked = append(f.asked, name)
	return f.byName[name], nil
}

func rpmPkg(name, epochVersionRelease, arch string) ospkg.Package {
	p := ospkg.Package{Name: name, Arch: arch, SrcName: name}
	v := epochVersionRelease
	if e, rest, ok := strings.Cut(v, ":"); ok {
		_, _ = fmt.Sscan(e, &p.Epoch)
		v = rest
	}
	p.Version, p.Release, _ = strings.Cut(v, "-")
	p.SrcVersion, p.SrcRelease, p.SrcEpoch = p.Version, p.Release, p.Epoch
	p.ID = name + "@" + p.Version + "-" + p.Release + "." + arch
	return p
}

// summary prints matches as "name installed->fixed id".
func summary(ms []match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s %s->%s %s", m.pkg.Name, m.installed, m.fixed, m.adv.VulnerabilityID))
	}
	return out
}

func TestDriversOfOtherFamilies(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		family ospkg.Family
		pkgs   []ospkg.Package
		advs   map[string][]vulndb.Advisory
		asked  []string
		want   []string
	}{
		{
			family: ospkg.Alma,
			pkgs: []ospkg.Package{
				rpmPkg("openssl", "1:3.0.7-24.el9", "x86_64"),
				func() ospkg.Package {
					p := rpmPkg("npm", "1:8.19.4-1.18.20.2.1.module_el9", "x86_64")
					p.Modularitylabel = "nodejs:18:9040020240807145403:rhel9"
					return p
				}(),
				rpmPkg("nodejs", "1:18.20.2-1.module_el9", "x86_64"), // module label lost: skipped
				rpmPkg("gpg-pubkey", "3228467c-613798eb", "None"),
			},
			advs: map[string][]vulndb.Advisory{
				"openssl":        {{VulnerabilityID: "CVE-1", FixedVersion: "0:3.0.7-25.el9"}, {VulnerabilityID: "CVE-2", FixedVersion: "1:3.0.7-25.el9"}},
				"nodejs:18::npm": {{VulnerabilityID: "CVE-3", FixedVersion: "1:8.19.4-1.18.20.4.1.module_el9"}},
			},
			asked: []string{"openssl", "nodejs:18::npm"},
			want:  []string{"openssl 1:3.0.7-24.el9->1:3.0.7-25.el9 CVE-2", "npm 1:8.19.4-1.18.20.2.1.module_el9->1:8.19.4-1.18.20.4.1.module_el9 CVE-3"},
		},
		{
			family: ospkg.Oracle,
			pkgs:   []ospkg.Package{rpmPkg("openssl", "1:3.0.7-24.el9", "x86_64"), rpmPkg("kernel", "5.15.0-1.el9_fips", "x86_64")},
			advs: map[string][]vulndb.Advisory{
				"openssl": {{VulnerabilityID: "CVE-1", FixedVersion: "1:3.0.7-25.el9", Arches: []string{"x86_64"}}, {VulnerabilityID: "CVE-2", FixedVersion: "1:3.0.7-25.el9", Arches: []string{"aarch64"}}},
				"kernel":  {{VulnerabilityID: "CVE-3", FixedVersion: "5.15.0-2.el9"}, {VulnerabilityID: "CVE-4", FixedVersion: "5.15.0-2.el9_fips"}},
			},
			want: []string{"openssl 1:3.0.7-24.el9->1:3.0.7-25.el9 CVE-1", "kernel 5.15.0-1.el9_fips->5.15.0-2.el9_fips CVE-4"},
		},
		{
			family: ospkg.Amazon,
			pkgs:   []ospkg.Package{rpmPkg("curl", "8.5.0-1.amzn2023.0.2", "x86_64")},
			advs:   map[string][]vulndb.Advisory{"curl": {{VulnerabilityID: "CVE-1", FixedVersion: "8.5.0-1.amzn2023.0.4"}, {VulnerabilityID: "CVE-2"}}},
			want:   []string{"curl 8.5.0-1.amzn2023.0.2->8.5.0-1.amzn2023.0.4 CVE-1"},
		},
		{
			family: ospkg.Azure,
			pkgs: []ospkg.Package{func() ospkg.Package {
				p := rpmPkg("libcurl", "8.8.0-1.azl3", "x86_64")
				p.SrcName = "curl"
				return p
			}()},
			advs:  map[string][]vulndb.Advisory{"curl": {{VulnerabilityID: "CVE-1", FixedVersion: "0:8.8.0-2.azl3"}, {VulnerabilityID: "CVE-2"}}},
			asked: []string{"curl"},
			want:  []string{"libcurl 8.8.0-1.azl3->8.8.0-2.azl3 CVE-1", "libcurl 8.8.0-1.azl3-> CVE-2"},
		},
		{
			family: ospkg.Wolfi,
			pkgs:   []ospkg.Package{{Name: "libcrypto3", Version: "3.3.0-r2", SrcName: "openssl", SrcVersion: "3.3.0-r2"}},
			advs:   map[string][]vulndb.Advisory{"openssl": {{VulnerabilityID: "CVE-1", FixedVersion: "3.3.0-r3"}, {VulnerabilityID: "CVE-2"}}},
			want:   []string{"libcrypto3 3.3.0-r2->3.3.0-r3 CVE-1"},
		},
	}
	for _, tc := range tests {
		t.Run(string(tc.family), func(t *testing.T) {
			src := &fakeAdvisories{byName: tc.advs}
			ms, _, err := matchPackages(context.Background(), log, src, drivers[tc.family], "p", tc.pkgs)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(ms); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
			if tc.asked != nil && !reflect.DeepEqual(src.asked, tc.asked) {
				t.Fatalf("asked %q, want %q", src.asked, tc.asked)
			}
		})
	}
}

func TestEchoUnparsableVersionIsAnError(t *testing.T) {
	src := &fakeAdvisories{byName: map[string][]vulndb.Advisory{"openssl": {{VulnerabilityID: "CVE-1", FixedVersion: "not a version!"}}}}
	p := ospkg.Package{Name: "libssl3", SrcName: "openssl", SrcVersion: "3.0.11", SrcRelease: "1"}
	_, _, err := matchPackages(context.Background(), slog.New(slog.DiscardHandler), src, drivers[ospkg.Echo], "echo", []ospkg.Package{p})
	if err == nil || !strings.Contains(err.Error(), "package libssl3: advisory CVE-1") {
		t.Fatalf("err %v", err)
	}
	// Debian skips the advisory instead.
	ms, _, err := matchPackages(context.Background(), slog.New(slog.DiscardHandler), src, drivers[ospkg.Debian], "debian 12", []ospkg.Package{p})
	if err != nil || len(ms) != 0 {
		t.Fatalf("%v %v", ms, err)
	}
}

func TestFilterDeduplicatesAndSorts(t *testing.T) {
	in := []DetectedVulnerability{
		{VulnerabilityID: "CVE-2", PkgName: "b", PkgID: "b@1", InstalledVersion: "1", FixedVersion: "2", Status: "fixed", Severity: "LOW"},
		{VulnerabilityID: "CVE-1", PkgName: "b", PkgID: "b@1", InstalledVersion: "1", FixedVersion: "2", Status: "fixed", Severity: "HIGH"},
		{VulnerabilityID: "CVE-1", PkgName: "b", PkgID: "b@1", InstalledVersion: "1", FixedVersion: "3", Status: "fixed", Severity: "HIGH"},
		{VulnerabilityID: "CVE-3", PkgName: "a", PkgID: "a@1", InstalledVersion: "1", Status: "affected"},
		{VulnerabilityID: "CVE-0", PkgName: "b", PkgID: "b@1", InstalledVersion: "1", FixedVersion: "2", Status: "fixed", Severity: "LOW"},
	}
	var got []string
	for _, v := range filterFindings(in, nil, true) {
		got = append(got, v.PkgName+" "+v.VulnerabilityID+" "+v.FixedVersion+" "+v.Severity)
	}
	want := []string{"a CVE-3  UNKNOWN", "b CVE-1 3 HIGH", "b CVE-0 2 LOW", "b CVE-2 2 LOW"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if n := len(filterFindings(in, nil, false)); n != 3 {
		t.Fatalf("fixed only: %d", n)
	}
}

func TestPackageURLs(t *testing.T) {
	amzn := rpmPkg("bind-export-libs", "32:9.11.4-26.P2.amzn2.5.2", "x86_64")
	if got := packageURL(ospkg.OS{Family: ospkg.Amazon, Name: "2 (Karoo)"}, amzn); got != "pkg:rpm/amazon/bind-export-libs@9.11.4-26.P2.amzn2.5.2?arch=x86_64&distro=amazon-2%20%28Karoo%29&epoch=32" {
		t.Fatal(got)
	}
	sles := rpmPkg("libopenssl3", "3.0.8-150500.5.20.1", "x86_64")
	if got := packageURL(ospkg.OS{Family: ospkg.SLES, Name: "15.5"}, sles); got != "pkg:rpm/suse/libopenssl3@3.0.8-150500.5.20.1?arch=x86_64&distro=sles-15.5" {
		t.Fatal(got)
	}
	deb := ospkg.Package{Name: "libssl1.1", Version: "1.1.1n", Release: "0+deb11u5", Arch: "amd64"}
	if got := packageURL(ospkg.OS{Family: ospkg.Debian, Name: "11.7"}, deb); got != "pkg:deb/debian/libssl1.1@1.1.1n-0%2Bdeb11u5?arch=amd64&distro=debian-11.7" {
		t.Fatal(got)
	}
	if got := packageURL(ospkg.OS{Family: ospkg.RedHat, Name: "9"}, sles); !strings.HasPrefix(got, "pkg:rpm/redhat/") {
		t.Fatal(got)
	}
}
