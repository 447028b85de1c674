package ospkg_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/ospkg"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

func inspect(t *testing.T, img v1.Image, opts ...ospkg.Option) *ospkg.Inventory {
	t.Helper()
	inv, err := ospkg.Inspect(context.Background(), img, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// pkgLine summarises a package for comparisons.
func pkgLine(p ospkg.Package) string {
	return strings.Join([]string{p.ID, p.Name, p.FullVersion(), p.Arch, p.SrcName, p.SrcFullVersion(), p.File, strconv.Itoa(p.Layer.Index)}, " ")
}

func wantPackages(t *testing.T, inv *ospkg.Inventory, want ...string) {
	t.Helper()
	var got []string
	for _, p := range inv.Packages {
		got = append(got, pkgLine(p))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("packages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func wantOS(t *testing.T, inv *ospkg.Inventory, family ospkg.Family, name string, pm ospkg.PkgManager) {
	t.Helper()
	if inv.OS.Family != family || inv.OS.Name != name || inv.PkgManager != pm {
		t.Errorf("OS %v (%s), want %s/%s (%s)", inv.OS, inv.PkgManager, family, name, pm)
	}
}

// debianBase is a Debian 12 base layer: os-release is a symlink, as there.
func debianBase(t testing.TB) v1.Layer {
	return it.Layer(t,
		it.Dir("etc/"), it.File("etc/debian_version", "12.5\n"), it.Symlink("etc/os-release", "../usr/lib/os-release"),
		it.Dir("usr/"), it.Dir("usr/lib/"), it.File("usr/lib/os-release", debianOSRelease),
		it.Symlink("bin", "usr/bin"), it.Symlink("lib", "usr/lib"),
		it.Dir("var/"), it.Dir("var/lib/"), it.Dir("var/lib/dpkg/"), it.File("var/lib/dpkg/status", debianBaseStatus),
	)
}

func TestInspectDebian(t *testing.T) {
	img := it.Image(t, debianBase(t), it.FilesLayer(t, map[string]string{
		"var/lib/dpkg/status": debianAppStatus, "usr/bin/openssl": "ELF",
	}))
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Debian, "12.5", ospkg.Dpkg)
	wantPackages(t, inv,
		"base-files@12.4+deb12u5 base-files 12.4+deb12u5 amd64 base-files 12.4+deb12u5 var/lib/dpkg/status 1",
		"libc6@2.36-9+deb12u4 libc6 2.36-9+deb12u4 amd64 glibc 2.36-9+deb12u4 var/lib/dpkg/status 1",
		"libssl3@3.0.11-1~deb12u2 libssl3 3.0.11-1~deb12u2 amd64 openssl 3.0.11-1~deb12u2 var/lib/dpkg/status 1",
		"openssl@3.0.11-1~deb12u2 openssl 3.0.11-1~deb12u2 amd64 openssl 3.0.11-1~deb12u2 var/lib/dpkg/status 1",
	)
	p := inv.Packages[2]
	if p.Version != "3.0.11" || p.Release != "1~deb12u2" || p.SrcName != "openssl" || p.SrcVersion != "3.0.11" || p.SrcRelease != "1~deb12u2" {
		t.Errorf("libssl3 = %+v", p)
	}
	if len(inv.LayersRead) != 2 {
		t.Errorf("layers read: %v", inv.LayersRead)
	}
}

func TestInspectStopsAboveUnneededLayers(t *testing.T) {
	junk := func(name string) v1.Layer {
		return it.FilesLayer(t, map[string]string{"opt/" + name + "/data.bin": strings.Repeat(name, 1000)})
	}
	img, counter := it.Count(it.Image(t, junk("a"), junk("b"), debianBase(t),
		it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": debianAppStatus}),
		junk("c")))
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Debian, "12.5", ospkg.Dpkg)
	if len(inv.Packages) != 4 {
		t.Errorf("%d packages", len(inv.Packages))
	}
	if counter.Opened(0) != 0 || counter.Opened(1) != 0 {
		t.Errorf("layers below the OS files were opened: %d, %d", counter.Opened(0), counter.Opened(1))
	}
	if len(inv.LayersRead) != 3 || inv.LayersRead[0].Index != 4 || inv.LayersRead[2].Index != 2 {
		t.Errorf("layers read: %v", inv.LayersRead)
	}
}

func TestInspectUbuntu(t *testing.T) {
	img := it.Image(t, it.FilesLayer(t, map[string]string{
		"etc/lsb-release":     ubuntuLSBRelease,
		"etc/debian_version":  "bookworm/sid\n",
		"etc/os-release":      ubuntuOSRelease,
		"var/lib/dpkg/status": "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.35-0ubuntu3.6\n",
	}))
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Ubuntu, "22.04", ospkg.Dpkg)
	wantPackages(t, inv, "libc6@2.35-0ubuntu3.6 libc6 2.35-0ubuntu3.6 amd64 glibc 2.35-0ubuntu3.6 var/lib/dpkg/status 0")
}

// distroless builds a gcr.io/distroless-style image: status.d files spread
// over two layers, with md5sums files beside them.
func distroless(t *testing.T, more ...v1.Layer) v1.Image {
	layers := []v1.Layer{
		it.FilesLayer(t, map[string]string{
			"etc/debian_version":                         "12.5\n",
			"etc/os-release":                             debianOSRelease,
			"var/lib/dpkg/status.d/base-files":           "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
			"var/lib/dpkg/status.d/base-files.md5sums":   "d41d8cd98f00b204e9800998ecf8427e  etc/issue\n",
			"var/lib/dpkg/status.d/tzdata":               "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
			"var/lib/dpkg/status.d/netbase":              "Package: netbase\nVersion: 6.4\nArchitecture: all\n",
			"usr/share/doc/base-files/copyright":         "x",
			"var/lib/dpkg/status.d/netbase.md5sums":      "",
			"var/lib/dpkg/status.d/tzdata.md5sums":       "",
			"var/lib/dpkg/status.d/base-files.preinst/x": "dir entries are skipped",
		}),
		it.FilesLayer(t, map[string]string{
			"var/lib/dpkg/status.d/libc6":   "Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nSource: glibc\n",
			"var/lib/dpkg/status.d/libssl3": "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n",
		}),
	}
	return it.Image(t, append(layers, more...)...)
}

func TestInspectDistroless(t *testing.T) {
	inv := inspect(t, distroless(t))
	wantOS(t, inv, ospkg.Debian, "12.5", ospkg.Dpkg)
	wantPackages(t, inv,
		"base-files@12.4+deb12u5 base-files 12.4+deb12u5 amd64 base-files 12.4+deb12u5 var/lib/dpkg/status.d/base-files 0",
		"libc6@2.36-9+deb12u4 libc6 2.36-9+deb12u4 amd64 glibc 2.36-9+deb12u4 var/lib/dpkg/status.d/libc6 1",
		"libssl3@3.0.11-1~deb12u2 libssl3 3.0.11-1~deb12u2 amd64 openssl 3.0.11-1~deb12u2 var/lib/dpkg/status.d/libssl3 1",
		"netbase@6.4 netbase 6.4 all netbase 6.4 var/lib/dpkg/status.d/netbase 0",
		"tzdata@2024a-0+deb12u1 tzdata 2024a-0+deb12u1 all tzdata 2024a-0+deb12u1 var/lib/dpkg/status.d/tzdata 0",
	)
}

func TestInspectPackageDeletedByWhiteout(t *testing.T) {
	inv := inspect(t, distroless(t, it.Layer(t, it.Whiteout("var/lib/dpkg/status.d/libssl3"), it.Whiteout("var/lib/dpkg/status.d/tzdata"))))
	var names []string
	for _, p := range inv.Packages {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "base-files,libc6,netbase" {
		t.Errorf("packages = %s", got)
	}
}

func TestInspectOpaqueStatusDir(t *testing.T) {
	img, counter := it.Count(distroless(t, it.Layer(t,
		// Opaque var/lib/dpkg hides both the lower status file and status.d.
		it.Dir("var/lib/dpkg/"), it.Opaque("var/lib/dpkg"),
		it.File("var/lib/dpkg/status.d/busybox", "Package: busybox\nVersion: 1:1.35.0-4+b3\nArchitecture: amd64\nSource: busybox (1:1.35.0-4)\n"),
		it.File("etc/os-release", debianOSRelease), it.File("etc/debian_version", "12.6\n"),
	)))
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Debian, "12.6", ospkg.Dpkg)
	wantPackages(t, inv, "busybox@1:1.35.0-4+b3 busybox 1:1.35.0-4+b3 amd64 busybox 1:1.35.0-4 var/lib/dpkg/status.d/busybox 2")
	if counter.Opened(0)+counter.Opened(1) != 0 {
		t.Error("layers under the opaque status.d were opened")
	}
}

func TestInspectAlpine(t *testing.T) {
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{
			"etc/alpine-release":   "3.19.1\n",
			"etc/os-release":       alpineOSRelease,
			"etc/apk/repositories": "https://dl-cdn.alpinelinux.org/alpine/v3.19/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.19/community\n",
			"lib/apk/db/installed": "P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n",
		}),
		it.FilesLayer(t, map[string]string{"lib/apk/db/installed": alpineInstalledDB}),
	)
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Alpine, "3.19.1", ospkg.Apk)
	if inv.Repository == nil || *inv.Repository != (ospkg.Repository{Family: ospkg.Alpine, Release: "3.19"}) {
		t.Errorf("repository = %v", inv.Repository)
	}
	wantPackages(t, inv,
		"busybox@1.36.1-r15 busybox 1.36.1-r15 x86_64 busybox 1.36.1-r15 lib/apk/db/installed 1",
		"musl@1.2.4_git20230717-r4 musl 1.2.4_git20230717-r4 x86_64 musl 1.2.4_git20230717-r4 lib/apk/db/installed 1",
	)
}

func TestInspectAlpineFromRepositoriesOnly(t *testing.T) {
	img := it.Image(t, it.FilesLayer(t, map[string]string{
		"etc/apk/repositories": "https://dl-cdn.alpinelinux.org/alpine/v3.18/main\n",
		"lib/apk/db/installed": alpineInstalledDB,
	}))
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Alpine, "3.18", ospkg.Apk)
}

func TestInspectRockySQLite(t *testing.T) {
	img := it.Image(t, it.Layer(t,
		it.Dir("etc/"), it.File("etc/rocky-release", "Rocky Linux release 9.3 (Blue Onyx)\n"),
		it.Symlink("etc/redhat-release", "rocky-release"), it.Symlink("etc/system-release", "rocky-release"),
		it.Symlink("etc/os-release", "../usr/lib/os-release"),
		it.Dir("usr/"), it.Dir("usr/lib/"), it.File("usr/lib/os-release", rockyOSRelease),
		it.Dir("var/"), it.Dir("var/lib/"), it.Dir("var/lib/rpm/"),
		it.File("var/lib/rpm/rpmdb.sqlite", readFile(t, "testdata/rpm/rpmdb.sqlite")),
	))
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Rocky, "9.3", ospkg.RPM)
	wantPackages(t, inv,
		"hello@1.2.3-4.el9.x86_64 hello 1:1.2.3-4.el9 x86_64 hello 1:1.2.3-4.el9 var/lib/rpm/rpmdb.sqlite 0",
		"libhello@1.2.3-4.el9.x86_64 libhello 1:1.2.3-4.el9 x86_64 hello 1:1.2.3-4.el9 var/lib/rpm/rpmdb.sqlite 0",
		"zdata@2024a-1.el9.noarch zdata 2024a-1.el9 noarch zdata 2024a-1.el9 var/lib/rpm/rpmdb.sqlite 0",
	)
}

func TestInspectAmazonBerkeleyDBThroughSymlinkedDir(t *testing.T) {
	img := it.Image(t,
		it.Layer(t,
			it.File("etc/system-release", "Amazon Linux release 2 (Karoo)\n"), it.File("etc/os-release", amazonOSRelease),
			it.Dir("usr/lib/sysimage/rpm/"), it.File("usr/lib/sysimage/rpm/Packages", readFile(t, "testdata/rpm/Packages")),
		),
		it.Layer(t, it.Dir("var/"), it.Dir("var/lib/"), it.Symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm")),
	)
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Amazon, "2 (Karoo)", ospkg.RPM)
	if inv.OS.Version() != "2" || len(inv.Packages) != 3 || inv.Packages[0].File != "var/lib/rpm/Packages" || inv.Packages[0].Layer.Index != 0 {
		t.Errorf("inventory = %+v", inv)
	}
}

func TestInspectUnsupported(t *testing.T) {
	tests := map[string]struct {
		img    v1.Image
		reason string
	}{
		"windows config": {it.WindowsImage(t, it.FilesLayer(t, map[string]string{"Files/Windows/System32/config/SOFTWARE": "regf"})), ospkg.ReasonWindows},
		"windows files":  {it.Image(t, it.FilesLayer(t, map[string]string{"Files/Windows/System32/config/SOFTWARE": "regf", "etc/os-release": alpineOSRelease})), ospkg.ReasonWindows},
		"no os":          {it.Image(t, it.FilesLayer(t, map[string]string{"app/server": "ELF", "etc/passwd": "root:x:0:0::/root:/bin/sh\n"})), ospkg.ReasonNoOS},
		"empty image":    {it.Image(t), ospkg.ReasonNoOS},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			inv, err := ospkg.Inspect(context.Background(), tt.img)
			if !errors.Is(err, ospkg.ErrUnsupportedOS) || inv != nil {
				t.Fatalf("err = %v, inventory %v", err, inv)
			}
			var u *ospkg.UnsupportedOSError
			if !errors.As(err, &u) || u.Reason != tt.reason {
				t.Errorf("reason = %v", err)
			}
		})
	}
}

func TestInspectErrorsNameLayerAndLine(t *testing.T) {
	bad := it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": debianBaseStatus + "\nPackage: x\nthis line is broken\n"})
	_, err := ospkg.Inspect(context.Background(), it.Image(t, debianBase(t), bad))
	d, _ := bad.Digest()
	want := "layer sha256:" + d.Hex[:12] + ": var/lib/dpkg/status: line 19: malformed field"
	if err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, ospkg.ErrUnsupportedOS) {
		t.Errorf("err = %v\nwant it to contain %q", err, want)
	}

	broken := it.TruncatedLayer(t, it.File("var/lib/dpkg/status", strings.Repeat(debianAppStatus, 50)))
	_, err = ospkg.Inspect(context.Background(), it.Image(t, debianBase(t), broken))
	d, _ = broken.Digest()
	if err == nil || !strings.Contains(err.Error(), "layer sha256:"+d.Hex[:12]) {
		t.Errorf("truncated layer: err = %v", err)
	}
}

func TestInspectMaliciousLayer(t *testing.T) {
	// os-release climbs out with "..", and lib points at the host's /lib:
	// both resolve inside the image.
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{"etc/alpine-release": "3.19.1\n", "usr/lib/apk/db/installed": alpineInstalledDB, "real/os-release": alpineOSRelease}),
		it.Layer(t, it.Symlink("etc/os-release", "../../../../../../real/os-release"), it.Symlink("lib", "/usr/lib")),
	)
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.Alpine, "3.19.1", ospkg.Apk)
	if len(inv.Packages) != 2 || inv.Packages[0].File != "lib/apk/db/installed" {
		t.Errorf("packages = %+v", inv.Packages)
	}

	evil := it.Layer(t, it.File("../../../etc/cron.d/evil", "* * * * * root sh"))
	_, err := ospkg.Inspect(context.Background(), it.Image(t, debianBase(t), evil))
	if err == nil || !strings.Contains(err.Error(), "climbs out of the image root") {
		t.Errorf("err = %v", err)
	}
}

func TestPackageLayerIsImagefsLayer(t *testing.T) {
	inv := inspect(t, distroless(t))
	var zero imagefs.Layer
	for _, p := range inv.Packages {
		if p.Layer == zero || p.Layer.DiffID.Hex == "" {
			t.Errorf("%s: no layer", p.Name)
		}
	}
}

func TestInspectEarlyStopPerFormat(t *testing.T) {
	tops := map[string]struct {
		files  map[string]string
		family ospkg.Family
		pkgs   int
	}{
		"ubuntu": {map[string]string{
			"etc/os-release": ubuntuOSRelease, "etc/lsb-release": ubuntuLSBRelease, "etc/debian_version": "bookworm/sid\n",
			"var/lib/dpkg/status": debianBaseStatus,
		}, ospkg.Ubuntu, 2},
		"alpine": {map[string]string{
			"etc/os-release": alpineOSRelease, "etc/alpine-release": "3.19.1\n", "lib/apk/db/installed": alpineInstalledDB,
		}, ospkg.Alpine, 2},
		"rocky": {map[string]string{
			"etc/os-release": rockyOSRelease, "etc/rocky-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
			"etc/redhat-release": "Rocky Linux release 9.3 (Blue Onyx)\n", "var/lib/rpm/rpmdb.sqlite": readFile(t, "testdata/rpm/rpmdb.sqlite"),
		}, ospkg.Rocky, 3},
		"amazon": {map[string]string{
			"etc/os-release": amazonOSRelease, "etc/system-release": "Amazon Linux release 2 (Karoo)\n",
			"var/lib/rpm/Packages": readFile(t, "testdata/rpm/Packages"),
		}, ospkg.Amazon, 3},
		"bottlerocket (no package database)": {map[string]string{
			"usr/lib/os-release": "NAME=Bottlerocket\nID=bottlerocket\nVERSION_ID=1.19.2\n", "etc/os-release": "NAME=Bottlerocket\nID=bottlerocket\nVERSION_ID=1.19.2\n",
		}, ospkg.Bottlerocket, 0},
	}
	for name, tt := range tops {
		t.Run(name, func(t *testing.T) {
			img, counter := it.Count(it.Image(t,
				it.FilesLayer(t, map[string]string{"var/lib/dpkg/status": "Package: stale\nStatus: install ok installed\nVersion: 1\n"}),
				it.FilesLayer(t, tt.files)))
			inv := inspect(t, img)
			if inv.OS.Family != tt.family || len(inv.Packages) != tt.pkgs {
				t.Errorf("OS %v, %d packages", inv.OS, len(inv.Packages))
			}
			if counter.Opened(0) != 0 {
				t.Error("the lower layer was opened")
			}
		})
	}
}

func TestStrings(t *testing.T) {
	p := ospkg.Package{Name: "openssl", Version: "3.0.7", Release: "27.el9", Epoch: 1, Arch: "x86_64"}
	if s := p.String(); s != "openssl 1:3.0.7-27.el9 (x86_64)" {
		t.Errorf("Package.String = %q", s)
	}
	if s := (&ospkg.UnsupportedOSError{Reason: "x"}).Error(); s != "unsupported OS: x" {
		t.Errorf("Error = %q", s)
	}
	if s := imagefs.KindSymlink.String() + imagefs.KindUnknown.String(); s != "symlinkunknown" {
		t.Errorf("Kind.String = %q", s)
	}
}

func TestInspectWorkIsLinearInLayers(t *testing.T) {
	// The Debian base at the bottom makes Inspect read every layer.
	const n = 200
	layers := []v1.Layer{debianBase(t)}
	for i := 1; i < n; i++ {
		layers = append(layers, it.RawLayer(it.Tar(t, it.File("opt/data"+strconv.Itoa(i), "x"))))
	}
	img, counter := it.Count(it.Image(t, layers...))
	inv := inspect(t, img, ospkg.WithCache(mustDirCache(t)))
	if len(inv.Packages) != 2 || len(inv.LayersRead) != n {
		t.Fatalf("%d packages, %d layers read", len(inv.Packages), len(inv.LayersRead))
	}
	// The manifest and config are read a fixed number of times, and no
	// layer's identity is looked up on its own (each such lookup re-reads
	// the manifest and config of a remote image): the work per layer is
	// one opening.
	if reads, lookups := counter.MetadataReads(), counter.LayerLookups(); reads > 4 || lookups != 0 {
		t.Errorf("%d layers: %d manifest or config reads, %d layer lookups", n, reads, lookups)
	}
	if counter.Total() != n {
		t.Errorf("%d layer openings for %d layers", counter.Total(), n)
	}
}

func mustDirCache(t *testing.T) *ospkg.DirCache {
	t.Helper()
	c, err := ospkg.NewDirCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
