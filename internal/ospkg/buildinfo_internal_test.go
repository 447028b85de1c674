package ospkg

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ubi8Dockerfile is shaped like the build Dockerfile Red Hat leaves in
// root/buildinfo of UBI 8 images: labels over continued lines, quoted keys
// and values, and values from ARG and ENV.
const ubi8Dockerfile = `# syntax: OSBS-generated
ARG ARCH=x86_64
FROM sha256:0f2a8b3c1d
ENV COMPONENT=ubi8-container \
    NAME="ubi8"

# the labels
LABEL maintainer="Red Hat, Inc."
LABEL com.redhat.component="${COMPONENT}" \
      name="$NAME" \
      version="8.0"
LABEL "release"="126" "distribution-scope"="public" "vendor"="Red Hat, Inc." "architecture"="$ARCH" 'summary'='a "quoted" word'
CMD ["/bin/bash"]
`

func TestParseBuildDockerfile(t *testing.T) {
	nvr, arch, err := parseBuildDockerfile("root/buildinfo/Dockerfile-ubi8-8.0-126", []byte(ubi8Dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	if nvr != "ubi8-container-8.0-126" || arch != "x86_64" {
		t.Errorf("got %q %q, want ubi8-container-8.0-126 x86_64", nvr, arch)
	}

	// BZComponent (older images) counts too, a later label wins, and the
	// legacy "LABEL key value" form is read.
	df := "FROM scratch\nLABEL BZComponent=rhel-server-docker\nLABEL Architecture x86_64\nLABEL architecture=s390x\n"
	nvr, arch, err = parseBuildDockerfile("root/buildinfo/Dockerfile-rhel7-7.9-30", []byte(df))
	if err != nil || nvr != "rhel-server-docker-7.9-30" || arch != "s390x" {
		t.Errorf("BZComponent: got %q %q %v", nvr, arch, err)
	}

	for _, tc := range []struct{ name, df, want string }{
		{"no component", "FROM x\nLABEL architecture=x86_64\n", "no com.redhat.component label"},
		{"no arch", "FROM x\nLABEL com.redhat.component=ubi9-container\n", "no architecture label"},
		{"label before FROM", "LABEL com.redhat.component=a architecture=b\nFROM x\n", "LABEL before FROM"},
	} {
		if _, _, err := parseBuildDockerfile("root/buildinfo/Dockerfile-a-1-2", []byte(tc.df)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestExpandNestedDefaults: nested defaults expand, but a crafted
// Dockerfile nesting them per byte neither recurses without bound nor
// takes quadratic time.
func TestExpandNestedDefaults(t *testing.T) {
	if got := expandWord(`"${A:-${B:-x}}-$C"`, map[string]string{"C": "c"}); got != "x-c" {
		t.Errorf("got %q", got)
	}
	const n = 100_000
	deep := "FROM x\nLABEL architecture=a com.redhat.component=" + strings.Repeat("${a:-", n) + "v" + strings.Repeat("}", n) + "\n"
	start := time.Now()
	_, _, err := parseBuildDockerfile("root/buildinfo/Dockerfile-a-1-2", []byte(deep))
	if !errors.Is(err, ErrTooLarge) || time.Since(start) > 5*time.Second {
		t.Errorf("deep nesting: %v after %s, want ErrTooLarge at once", err, time.Since(start))
	}
}

func TestNVRVersion(t *testing.T) {
	for in, want := range map[string]string{
		"root/buildinfo/Dockerfile-ubi8-8.0-126":                 "8.0-126",
		"root/buildinfo/Dockerfile-ubi9-minimal-container-9.4-1": "9.4-1",
		"root/buildinfo/Dockerfile":                              "",
		"root/buildinfo/Dockerfile-x":                            "root/buildinfo/Dockerfile-x", // as Trivy: no second dash
	} {
		if got := nvrVersion(in); got != want {
			t.Errorf("nvrVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseContentManifest(t *testing.T) {
	got, err := parseContentManifest([]byte(`{"metadata":{"icm_version":1},"content_sets":["rhel-9-for-x86_64-baseos-rpms","rhel-9-for-x86_64-appstream-rpms"],"image_layer_index":0}`))
	if err != nil || !reflect.DeepEqual(got, []string{"rhel-9-for-x86_64-baseos-rpms", "rhel-9-for-x86_64-appstream-rpms"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := parseContentManifest([]byte(`{"content_sets": "not a list"}`)); err == nil {
		t.Error("a malformed manifest gave no error")
	}
	many := `{"content_sets":["a"` + strings.Repeat(`,"a"`, maxContentSets) + `]}`
	if _, err := parseContentManifest([]byte(many)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too many content sets: err %v, want ErrTooLarge", err)
	}
}

func TestLookupBuildInfo(t *testing.T) {
	base, product := &BuildInfo{NVR: "base"}, &BuildInfo{NVR: "product"}
	// Layers: 0 bare base, 1 base build info, 2 user, 3 product, 4 user.
	infos := map[int]*BuildInfo{1: base, 3: product}
	for index, want := range map[int]*BuildInfo{0: base, 1: base, 2: base, 3: product, 4: product} {
		if got := lookupBuildInfo(index, infos); got != want {
			t.Errorf("layer %d: got %v, want %v", index, got, want)
		}
	}
	if got := lookupBuildInfo(0, map[int]*BuildInfo{2: base}); got != nil {
		t.Errorf("bottom layer takes only the layer above it, got %v", got)
	}
}

// FuzzBuildDockerfile checks that the build Dockerfile parser never
// panics, and that what it accepts has a component and an architecture.
func FuzzBuildDockerfile(f *testing.F) {
	f.Add("root/buildinfo/Dockerfile-ubi8-8.0-126", []byte(ubi8Dockerfile))
	f.Add("root/buildinfo/Dockerfile", []byte("FROM x\nLABEL a=${B:-${C}} \\\n\n# c\n b=\"\\\"\" c='$'\nENV X\n"))
	f.Add("-", []byte("FROM\nLABEL ${\nLABEL \\"))
	f.Fuzz(func(t *testing.T, path string, data []byte) {
		nvr, arch, err := parseBuildDockerfile(path, data)
		if err != nil {
			return
		}
		if arch == "" || !strings.Contains(nvr, "-") {
			t.Fatalf("accepted %q %q", nvr, arch)
		}
	})
}
