package rpmrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/rpm"
)

// need skips t unless the host tools are installed.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// run runs a command and returns its output; stderr must be empty
// unless allowStderr.
func run(t *testing.T, allowStderr bool, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "LC_ALL=C")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || (!allowStderr && stderr.Len() > 0) {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// hello is a package with every kind of file.
func hello(compressor string) Package {
	return Package{
		Name: "hello", Epoch: "1", Version: "2.0", Release: "3.el9", Compressor: compressor,
		PostIn: "echo installed > /tmp/hello-post", PreUn: "true", PostTrans: "true",
		Provides:  []rpm.Dep{{Name: "greeter", Flags: rpm.SenseEqual, Version: "2.0"}},
		Requires:  []rpm.Dep{{Name: "libc.so.6()(64bit)"}, {Name: "(bash or zsh)"}},
		Conflicts: []rpm.Dep{{Name: "hello-old", Flags: rpm.SenseLess, Version: "1.0"}},
		Obsoletes: []rpm.Dep{{Name: "hello-legacy", Flags: rpm.SenseLess | rpm.SenseEqual, Version: "1.9"}},
		Files: []File{
			{Path: "/usr/bin/hello", Mode: 0o755, Content: []byte("#!/bin/sh\necho hello\n")},
			{Path: "/usr/bin/hi", HardLinkOf: "/usr/bin/hello"},
			{Path: "/usr/bin/hey", LinkTo: "hello"},
			{Path: "/usr/share/hello", Dir: true},
			{Path: "/usr/share/hello/README", Content: []byte("read me\n"), Flags: rpm.FileDoc},
			{Path: "/etc/hello.conf", Content: []byte("greeting=hello\n"), Flags: rpm.FileConfig | rpm.FileNoReplace},
			{Path: "/var/log/hello.log", Flags: rpm.FileGhost},
			{Path: "/usr/sbin/ping-hello", Mode: 0o755, Content: []byte("ping"), Caps: "cap_net_raw=ep"},
		},
	}
}

func TestBuiltPackageJudgedByRPM(t *testing.T) {
	need(t, "rpm", "rpmkeys")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "RPM-GPG-KEY-test")
	if err := os.WriteFile(keyFile, RepoKey().PublicArmored(), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	run(t, false, "rpmkeys", "--dbpath", db, "--import", keyFile)
	for _, comp := range []string{"gzip", "xz", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			b, err := Build(hello(comp))
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), b.Package.FileName())
			if err := os.WriteFile(f, b.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := run(t, false, "rpmkeys", "--dbpath", db, "-Kv", f)
			for _, want := range []string{"Header V4 RSA/SHA256 Signature, key ID " + strings.ToLower(RepoKey().KeyID()[8:]) + ": OK", "Header SHA256 digest: OK", "Header SHA1 digest: OK", "Payload SHA256 digest: OK", "MD5 digest: OK"} {
				if !strings.Contains(out, want) {
					t.Errorf("rpmkeys -Kv lacks %q:\n%s", want, out)
				}
			}
			qf := run(t, false, "rpm", "--dbpath", db, "-qp", "--qf", "%{NEVRA} %{SOURCERPM} %{PAYLOADCOMPRESSOR}\n[%{PROVIDENEVRS}\n][%{REQUIRENEVRS}\n][%{CONFLICTNEVRS}\n][%{OBSOLETENEVRS}\n]", f)
			for _, want := range []string{"hello-1:2.0-3.el9.x86_64 hello-2.0-3.el9.src.rpm " + comp, "greeter = 2.0", "hello(x86-64) = 1:2.0-3.el9", "(bash or zsh)", "hello-old < 1.0", "hello-legacy <= 1.9"} {
				if !strings.Contains(qf, want) {
					t.Errorf("rpm -qp lacks %q:\n%s", want, qf)
				}
			}
			files := run(t, false, "rpm", "--dbpath", db, "-qp", "--qf", "[%{FILEMODES:perms} %{FILEFLAGS:fflags} %{FILECAPS} %{FILENAMES}\n]", f)
			for _, want := range []string{"-rwxr-xr-x   /usr/bin/hello", "lrwxrwxrwx   /usr/bin/hey", "-rw-r--r-- cn  /etc/hello.conf", "-rw-r--r-- g  /var/log/hello.log", "cap_net_raw=ep /usr/sbin/ping-hello"} {
				if !strings.Contains(files, want) {
					t.Errorf("rpm -qp file list lacks %q:\n%s", want, files)
				}
			}
			scripts := run(t, false, "rpm", "--dbpath", db, "-qp", "--scripts", f)
			for _, want := range []string{"postinstall scriptlet (using /bin/sh):\necho installed", "preuninstall scriptlet (using /bin/sh):\ntrue", "posttrans scriptlet (using /bin/sh):\ntrue"} {
				if !strings.Contains(scripts, want) {
					t.Errorf("rpm -qp --scripts lacks %q:\n%s", want, scripts)
				}
			}
			root := t.TempDir()
			run(t, true, "rpm", "--root", root, "--dbpath", "/db", "-i", "--nodeps", "--nosignature", "--noscripts", f)
			got, err := os.ReadFile(filepath.Join(root, "usr/bin/hi"))
			if err != nil || string(got) != "#!/bin/sh\necho hello\n" {
				t.Errorf("installed hard link: %q %v", got, err)
			}
			if l, err := os.Readlink(filepath.Join(root, "usr/bin/hey")); err != nil || l != "hello" {
				t.Errorf("installed symlink: %q %v", l, err)
			}
			if _, err := os.Stat(filepath.Join(root, "var/log/hello.log")); err == nil {
				t.Errorf("ghost file installed")
			}
			run(t, false, "rpm", "--root", root, "--dbpath", "/db", "-V", "--nodeps", "hello")
		})
	}
}

func TestLegacySignatureJudgedByRPM(t *testing.T) {
	need(t, "rpmkeys")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "RPM-GPG-KEY-test")
	if err := os.WriteFile(keyFile, RepoKey().PublicArmored(), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	run(t, false, "rpmkeys", "--dbpath", db, "--import", keyFile)
	want := "V4 RSA/SHA256 Signature, key ID " + strings.ToLower(RepoKey().KeyID()[8:]) + ": OK"
	for _, tc := range []struct {
		name  string
		edit  func(*Package)
		lines int
	}{
		{"header+payload signature", func(p *Package) { p.LegacySignature, p.NoPayloadDigest = true, true }, 4},
		{"EL7", func(p *Package) { p.EL7 = true }, 4},
	} {
		p := hello("gzip")
		tc.edit(&p)
		b, err := Build(p)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, p.FileName())
		if err := os.WriteFile(f, b.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out := run(t, false, "rpmkeys", "--dbpath", db, "-Kv", f)
		if !strings.Contains(out, want) || strings.Contains(out, "Payload") || strings.Count(out, ": OK") != tc.lines {
			t.Errorf("%s: rpmkeys -Kv: want %q, %d OK lines and no payload digest:\n%s", tc.name, want, tc.lines, out)
		}
	}
}
