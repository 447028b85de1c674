// Package rpmbuild builds real rpm packages with the host's rpmbuild and
// installs them with the host's rpm, for tests that judge Patchloop's rpm
// code against rpm itself. Tests skip when the tools are missing.
package rpmbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Spec describes a package to build. Files maps a path to its content;
// Config lists paths to mark %config(noreplace).
type Spec struct {
	Name, Version, Release string
	Epoch                  int
	Arch                   string // default noarch
	Provides, Requires     []string
	Conflicts, Obsoletes   []string
	Recommends, Suggests   []string
	Supplements, Enhances  []string
	Files                  map[string]string
	Config                 []string
	Dirs                   []string // owned directories
	Group                  string
	Triggers               []string // %triggerin -- NAME
	FileTriggers           []string // %filetriggerin -- PATH
	TransFileTriggers      []string // %transfiletriggerin -- PATH
}

// Need skips t unless the named host tools are installed.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// Build builds s with rpmbuild under dir and returns the package's path.
func Build(t testing.TB, dir string, s Spec) string {
	t.Helper()
	Need(t, "rpmbuild")
	if s.Release == "" {
		s.Release = "1"
	}
	if s.Arch == "" {
		s.Arch = "noarch"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Name: %s\nVersion: %s\nRelease: %s\nSummary: %s test package\nLicense: MIT\nBuildArch: %s\n", s.Name, s.Version, s.Release, s.Name, s.Arch)
	if s.Epoch > 0 {
		fmt.Fprintf(&b, "Epoch: %d\n", s.Epoch)
	}
	if s.Group != "" {
		fmt.Fprintf(&b, "Group: %s\n", s.Group)
	}
	for _, d := range []struct {
		kw   string
		list []string
	}{{"Provides", s.Provides}, {"Requires", s.Requires}, {"Conflicts", s.Conflicts}, {"Obsoletes", s.Obsoletes},
		{"Recommends", s.Recommends}, {"Suggests", s.Suggests}, {"Supplements", s.Supplements}, {"Enhances", s.Enhances}} {
		for _, v := range d.list {
			fmt.Fprintf(&b, "%s: %s\n", d.kw, v)
		}
	}
	fmt.Fprintf(&b, "%%description\n%s for tests\n", s.Name)
	for _, n := range s.Triggers {
		fmt.Fprintf(&b, "%%triggerin -- %s\necho trigger\n", n)
	}
	for _, p := range s.FileTriggers {
		fmt.Fprintf(&b, "%%filetriggerin -- %s\necho filetrigger\n", p)
	}
	for _, p := range s.TransFileTriggers {
		fmt.Fprintf(&b, "%%transfiletriggerin -- %s\necho transfiletrigger\n", p)
	}
	b.WriteString("%install\n")
	src := filepath.Join(dir, "src-"+s.Name+"-"+s.Version)
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	var files strings.Builder
	config := map[string]bool{}
	for _, c := range s.Config {
		config[c] = true
	}
	i := 0
	for _, p := range sortedKeys(s.Files) {
		i++
		f := filepath.Join(src, fmt.Sprint(i))
		if err := os.WriteFile(f, []byte(s.Files[p]), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "mkdir -p %%{buildroot}%s\ninstall -m 0644 %s %%{buildroot}%s\n", filepath.Dir(p), f, p)
		if config[p] {
			fmt.Fprintf(&files, "%%config(noreplace) %s\n", p)
		} else {
			fmt.Fprintf(&files, "%s\n", p)
		}
	}
	for _, d := range s.Dirs {
		fmt.Fprintf(&b, "mkdir -p %%{buildroot}%s\n", d)
		fmt.Fprintf(&files, "%%dir %s\n", d)
	}
	b.WriteString("%files\n")
	b.WriteString(files.String())
	spec := filepath.Join(dir, s.Name+"-"+s.Version+".spec")
	if err := os.WriteFile(spec, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(dir, "top")
	out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+top,
		"--define", "_build_id_links none", "--define", "__os_install_post %{nil}",
		"--define", "source_date_epoch_from_changelog 0", spec).CombinedOutput()
	if err != nil {
		t.Fatalf("rpmbuild %s: %v\n%s", s.Name, err, out)
	}
	name := fmt.Sprintf("%s-%s-%s.%s.rpm", s.Name, s.Version, s.Release, s.Arch)
	path := filepath.Join(top, "RPMS", s.Arch, name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("rpmbuild %s: %v", s.Name, err)
	}
	return path
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// RPM runs the host's rpm against the database under root (dbpath
// /var/lib/rpm, sqlite backend) and returns stdout; stderr output fails t.
func RPM(t testing.TB, root string, args ...string) string {
	t.Helper()
	out, errOut, err := RPMRaw(root, args...)
	if err != nil || errOut != "" {
		t.Fatalf("rpm %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// RPMRaw is RPM returning stdout, stderr and the exit error.
func RPMRaw(root string, args ...string) (string, string, error) {
	full := append([]string{"--root", root, "--dbpath", "/var/lib/rpm", "--define", "_db_backend sqlite"}, args...)
	cmd := exec.Command("rpm", full...)
	cmd.Env = append(os.Environ(), "HOME="+root, "LC_ALL=C")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// InitDB creates an empty sqlite rpm database under root.
func InitDB(t testing.TB, root string) {
	t.Helper()
	Need(t, "rpm")
	if err := os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	RPM(t, root, "--initdb")
}

// Install records pkgs in root's database as rpm -i --justdb --nodeps does.
func Install(t testing.TB, root string, pkgs ...string) {
	t.Helper()
	RPM(t, root, append(installFlags("-i"), pkgs...)...)
}

// Upgrade upgrades root's database to pkgs as rpm -U --justdb --nodeps does.
func Upgrade(t testing.TB, root string, pkgs ...string) {
	t.Helper()
	RPM(t, root, append(installFlags("-U"), pkgs...)...)
}

// installFlags are the flags of a database-only install; Debian's rpm also
// wants --force-debian, which it alone knows.
func installFlags(mode string) []string {
	flags := []string{mode, "--justdb", "--nodeps", "--nosignature", "--nodigest", "--noscripts", "--notriggers"}
	if out, err := exec.Command("rpm", "--help").Output(); err == nil && strings.Contains(string(out), "--force-debian") {
		flags = append(flags, "--force-debian")
	}
	return flags
}
