package ospkg_test

import (
	"reflect"
	"testing"

	"github.com/patchloop/patchloop/internal/ospkg"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

const (
	rhelOSRelease = "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n"
	ubi9Manifest  = `{"metadata":{"icm_version":1,"icm_spec":"https://raw.githubusercontent.com/containerbuildsystem/atomic-reactor/master/atomic_reactor/schemas/content_manifest.json","image_layer_index":0},` +
		`"content_sets":["rhel-9-for-x86_64-baseos-rpms","rhel-9-for-x86_64-appstream-rpms"],"image_contents":[]}`
	ubi9Dockerfile = "FROM koji/image-build\nLABEL com.redhat.component=\"ubi9-container\" name=\"ubi9\" version=\"9.4\" architecture=\"x86_64\"\n"
)

// TestInspectRedHatBuildInfo: a UBI 9-like base layer with a content
// manifest and a build Dockerfile, and a user layer that rewrote the rpm
// database: every package gets the base layer's build information.
func TestInspectRedHatBuildInfo(t *testing.T) {
	rpmdb := readFile(t, "testdata/redhat/rpmdb.sqlite")
	img := it.Image(t,
		it.FilesLayer(t, map[string]string{
			"etc/os-release":           rhelOSRelease,
			"etc/redhat-release":       "Red Hat Enterprise Linux release 9.4 (Plow)\n",
			"var/lib/rpm/rpmdb.sqlite": rpmdb,
			"root/buildinfo/content_manifests/ubi9-container-9.4-1123.json": ubi9Manifest,
			"root/buildinfo/Dockerfile-ubi9-9.4-1123":                       ubi9Dockerfile,
		}),
		it.FilesLayer(t, map[string]string{"var/lib/rpm/rpmdb.sqlite": rpmdb, "app/run": "#!/bin/sh\n"}),
	)
	inv := inspect(t, img)
	wantOS(t, inv, ospkg.RedHat, "9.4", ospkg.RPM)
	want := &ospkg.BuildInfo{
		ContentSets: []string{"rhel-9-for-x86_64-baseos-rpms", "rhel-9-for-x86_64-appstream-rpms"},
		NVR:         "ubi9-container-9.4-1123", Arch: "x86_64",
	}
	if len(inv.Packages) != 3 {
		t.Fatalf("%d packages, want 3", len(inv.Packages))
	}
	for _, p := range inv.Packages {
		if !reflect.DeepEqual(p.BuildInfo, want) {
			t.Errorf("%s: build info %+v, want %+v", p.Name, p.BuildInfo, want)
		}
	}
	wantPackages(t, inv,
		"bash@5.1.8-6.el9.x86_64 bash 5.1.8-6.el9 x86_64 bash 5.1.8-6.el9 var/lib/rpm/rpmdb.sqlite 1",
		"openssl-libs@3.0.7-24.el9.x86_64 openssl-libs 1:3.0.7-24.el9 x86_64 openssl 1:3.0.7-24.el9 var/lib/rpm/rpmdb.sqlite 1",
		"tzdata@2024a-1.el9.noarch tzdata 2024a-1.el9 noarch tzdata 2024a-1.el9 var/lib/rpm/rpmdb.sqlite 1",
	)

	// The cached inventory keeps it.
	cache, err := ospkg.NewDirCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	inspect(t, img, ospkg.WithCache(cache))
	again := inspect(t, img, ospkg.WithCache(cache))
	if !again.FromCache || !reflect.DeepEqual(again.Packages[0].BuildInfo, want) {
		t.Errorf("from cache (%v): build info %+v", again.FromCache, again.Packages[0].BuildInfo)
	}
}

// TestInspectBuildInfoOnlyForRedHat: other families' packages get none.
func TestInspectBuildInfoOnlyForRedHat(t *testing.T) {
	img := it.Image(t, it.FilesLayer(t, map[string]string{
		"etc/os-release":                          "ID=\"rocky\"\nVERSION_ID=\"9.3\"\n",
		"etc/rocky-release":                       "Rocky Linux release 9.3 (Blue Onyx)\n",
		"etc/redhat-release":                      "Rocky Linux release 9.3 (Blue Onyx)\n",
		"var/lib/rpm/rpmdb.sqlite":                readFile(t, "testdata/rpm/rpmdb.sqlite"),
		"root/buildinfo/content_manifests/x.json": ubi9Manifest,
	}))
	for _, p := range inspect(t, img).Packages {
		if p.BuildInfo != nil {
			t.Errorf("%s: build info %+v on Rocky", p.Name, p.BuildInfo)
		}
	}
}
