package aptrepo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

func sample() aptrepo.Config {
	return aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{
			{Name: "libssl3", Source: "openssl", Version: "3.0.15-1~deb12u1"},
			{Name: "tzdata", Version: "2024a-0+deb12u1", Arch: "all"},
		}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{
			{Name: "libssl3", Source: "openssl", Version: "3.0.14-1~deb12u2", Files: []deb.File{{Path: "usr/lib/libssl.so.3", Data: []byte("elf")}}},
		}},
	}}
}

func TestLayout(t *testing.T) {
	repo := aptrepo.New(t, sample())
	for _, p := range []string{
		"dists/bookworm/InRelease", "dists/bookworm/Release", "dists/bookworm/Release.gpg",
		"dists/bookworm/main/binary-amd64/Packages", "dists/bookworm/main/binary-amd64/Packages.gz",
		"dists/bookworm/main/binary-amd64/Packages.xz", "dists/bookworm-security/InRelease",
		"pool/main/o/openssl/libssl3_3.0.15-1~deb12u1_amd64.deb", "pool/main/o/openssl/libssl3_3.0.14-1~deb12u2_amd64.deb",
		"pool/main/t/tzdata/tzdata_2024a-0+deb12u1_all.deb",
	} {
		if repo.File(p) == nil {
			t.Errorf("%s not published", p)
		}
	}
	if got := aptrepo.PoolPath(aptrepo.Package{Name: "zlib1g", Source: "zlib", Version: "1:1.2.13.dfsg-1"}); got != "pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb" {
		t.Errorf("PoolPath = %s", got)
	}
	if got := aptrepo.PoolPath(aptrepo.Package{Name: "libc6", Source: "glibc", Version: "2.36"}); got != "pool/main/g/glibc/libc6_2.36_amd64.deb" {
		t.Errorf("PoolPath = %s", got)
	}
	if got := aptrepo.PoolPath(aptrepo.Package{Name: "libzstd1", Source: "libzstd", Version: "1.5"}); got != "pool/main/libz/libzstd/libzstd1_1.5_amd64.deb" {
		t.Errorf("PoolPath = %s", got)
	}
}

// TestAptGetAcceptsRepository checks the repository against the reference
// client when it is installed: apt-get update must verify and read every
// suite, and apt-cache must see both versions of libssl3.
func TestAptGetAcceptsRepository(t *testing.T) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("apt-get not installed")
	}
	repo := aptrepo.New(t, sample())
	root := t.TempDir()
	for _, d := range []string{"etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	list := "deb [signed-by=" + repo.KeyringPath + "] " + repo.URL + " bookworm main\n" +
		"deb [signed-by=" + repo.KeyringPath + "] " + repo.URL + " bookworm-security main\n"
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := []string{
		"-o", "Dir=" + root,
		"-o", "Dir::State::status=" + filepath.Join(root, "var/lib/dpkg/status"),
		"-o", "APT::Architecture=amd64",
		"-o", "APT::Architectures=amd64",
		"-o", "APT::Sandbox::User=root",
		"-o", "Debug::NoLocking=1",
		"-o", "Acquire::Languages=none",
		"-o", "Acquire::http::Proxy=DIRECT",
	}
	out, err := exec.Command("apt-get", append(opts, "update", "--error-on=any")...).CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
	out, err = exec.Command("apt-cache", append(opts, "madison", "libssl3", "tzdata")...).CombinedOutput()
	if err != nil {
		t.Fatalf("apt-cache madison: %v\n%s", err, out)
	}
	for _, want := range []string{"3.0.15-1~deb12u1", "3.0.14-1~deb12u2", "2024a-0+deb12u1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("apt-cache madison lacks %s:\n%s", want, out)
		}
	}
}
