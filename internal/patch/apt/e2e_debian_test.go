package apt_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// e2eSources are the suites of the end-to-end image.
const e2eSources = `deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
`

// TestE2EDebianBookworm builds a Debian 12 image with debootstrap
// (--variant=minbase), treats every installed package that bookworm-updates
// or bookworm-security has a newer version of as vulnerable, patches the
// image against deb.debian.org, unpacks the result and checks it with
// dpkg --audit, dpkg --verify, the installed versions, a rescan and by
// running the patched binaries. It needs root and network access and runs
// only with PATCHLOOP_E2E_DEBIAN=1.
func TestE2EDebianBookworm(t *testing.T) {
	if os.Getenv("PATCHLOOP_E2E_DEBIAN") != "1" {
		t.Skip("set PATCHLOOP_E2E_DEBIAN=1 to patch a debootstrap'ed Debian 12 against deb.debian.org")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (debootstrap, chroot)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if _, err := exec.LookPath("debootstrap"); err != nil {
		sh(t, ctx, "", "apt-get", "install", "-y", "--no-install-recommends", "debootstrap")
	}
	work := t.TempDir()
	root := filepath.Join(work, "rootfs")
	sh(t, ctx, "", "debootstrap", "--variant=minbase", "bookworm", root, "http://deb.debian.org/debian")
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte(e2eSources), 0o644); err != nil {
		t.Fatal(err)
	}
	layerTar := filepath.Join(work, "rootfs.tar")
	sh(t, ctx, "", "tar", "-C", root, "--numeric-owner", "-cf", layerTar, ".")
	img := imagetest.Image(t, imagetest.FileLayer(t, layerTar))

	// Findings: every installed package with a newer version in the
	// updates or security suites, fixed at that version's source version.
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	fs, advs := upgradable(t, ctx, status)
	if len(fs) == 0 {
		t.Skip("no package of the bookworm point release has a newer version in bookworm-updates or bookworm-security")
	}
	t.Logf("%d vulnerable packages: %v", len(fs), fs)
	db := patchtest.Database(t, "debian 12", advs...)
	if before := patchtest.Findings(t, img, db); len(before) == 0 {
		t.Fatal("the scanner finds nothing to fix before patching")
	}

	p := newPatcher(t, apt.Options{CacheDir: filepath.Join(work, "cache")})
	start, cpu := time.Now(), cpuTime()
	patched, out := patchImage(t, p, img, fs)
	cold := measured{time.Since(start), cpuTime() - cpu}
	t.Logf("patched in %s: %d updates, %d fixed, skipped scripts %v", cold.wall, len(out.Updates), len(out.Fixed), out.SkippedScripts)
	if out.Layer == nil || len(out.Updates) == 0 {
		t.Fatalf("nothing patched: %+v", out)
	}
	reportPatchTimes(t, ctx, root, filepath.Join(work, "cache"), img, fs, out, cold)
	mustNoFindings(t, patched, db)

	// Unpack the patched image (whiteouts applied) and check it with dpkg.
	dest := filepath.Join(work, "patched")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	flat := mutate.Extract(patched)
	defer flat.Close()
	untar := exec.CommandContext(ctx, "tar", "-C", dest, "--numeric-owner", "-xpf", "-")
	untar.Stdin = flat
	if b, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("unpacking: %v\n%s", err, b)
	}
	if got := sh(t, ctx, "", "chroot", dest, "dpkg", "--audit"); strings.TrimSpace(got) != "" {
		t.Errorf("dpkg --audit:\n%s", got)
	}
	for _, u := range out.Updates {
		if got := sh(t, ctx, "", "chroot", dest, "dpkg-query", "-W", "-f", "${Version} ${db:Status-Abbrev}", u.Name); got != u.To+" ii " {
			t.Errorf("%s: dpkg-query says %q, want %q", u.Name, got, u.To+" ii ")
		}
		if got := sh(t, ctx, "", "chroot", dest, "dpkg", "--verify", u.Name); strings.TrimSpace(got) != "" {
			t.Errorf("dpkg --verify %s:\n%s", u.Name, got)
		}
		runPatchedBinaries(t, ctx, dest, u.Name)
	}
	if got := sh(t, ctx, "", "chroot", dest, "/bin/sh", "-c", "echo ok"); got != "ok\n" {
		t.Errorf("/bin/sh in the patched image says %q", got)
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		if fi, err := os.Lstat(filepath.Join(dest, l)); err == nil && fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("/%s is no longer a symlink", l)
		}
	}
}

// measured is the wall time and CPU time (user and system) of a step.
type measured struct{ wall, cpu time.Duration }

func (m measured) String() string {
	return m.wall.Round(time.Millisecond).String() + " (CPU " + m.cpu.Round(time.Millisecond).String() + ")"
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPatchTimes logs the time of the cold patch, of a warm one (a new
// patcher over the same cache: every index and package on disk, the
// indexes already parsed) and of one more by that patcher (parsed indexes
// in memory), and, when the image has apt, of apt-get -s install of the
// same packages in the unpacked image after apt-get update, to compare
// with a dry run (planning only, as -s is). Wall times
// depend on the machine's load; CPU times less so.
func reportPatchTimes(t *testing.T, ctx context.Context, root, cache string, img v1.Image, fs []patch.Finding, cold *patch.Outcome, coldTime measured) {
	t.Helper()
	p := newPatcher(t, apt.Options{CacheDir: cache})
	var times []measured
	for range 2 {
		start, cpu := time.Now(), cpuTime()
		_, out := patchImage(t, p, img, fs)
		times = append(times, measured{time.Since(start), cpuTime() - cpu})
		if len(out.Updates) != len(cold.Updates) {
			t.Errorf("warm patch: %d updates, the cold one %d", len(out.Updates), len(cold.Updates))
		}
	}
	// A dry run plans without downloading or building: what apt-get -s
	// does. PATCHLOOP_E2E_CPUPROFILE=FILE writes its CPU profile.
	if f := os.Getenv("PATCHLOOP_E2E_CPUPROFILE"); f != "" {
		fh, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if err := pprof.StartCPUProfile(fh); err != nil {
			t.Fatal(err)
		}
	}
	start, cpu := time.Now(), cpuTime()
	dry, err := p.Patch(ctx, img, patch.Request{Findings: fs, WorkDir: t.TempDir(), DryRun: true})
	dryTime := measured{time.Since(start), cpuTime() - cpu}
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if len(dry.Updates) != len(cold.Updates) {
		t.Errorf("dry run: %d updates, the patch %d", len(dry.Updates), len(cold.Updates))
	}
	t.Logf("patch times: cold (empty cache) %s, warm (new patcher, cache on disk) %s, warm (same patcher) %s, dry run (same patcher) %s",
		coldTime, times[0], times[1], dryTime)

	if _, err := os.Stat(filepath.Join(root, "usr/bin/apt-get")); err != nil {
		t.Logf("no apt-get in the image: no apt-get -s install to compare with")
		return
	}
	names := make([]string, 0, len(cold.Updates))
	for _, u := range cold.Updates {
		names = append(names, u.Name)
	}
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		_ = os.WriteFile(filepath.Join(root, "etc/resolv.conf"), b, 0o644)
	}
	run := func(args ...string) measured {
		cmd := exec.CommandContext(ctx, "chroot", append([]string{root}, args...)...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("chroot %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return measured{time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	}
	update := run("apt-get", "-qq", "update")
	var sims []measured
	for range 2 {
		sims = append(sims, run(append([]string{"apt-get", "-s", "-qq", "install"}, names...)...))
	}
	t.Logf("apt-get in the image: update %s; -s install %s: %s, then %s",
		update, strings.Join(names, " "), sims[0], sims[1])
}

// upgradable compares the installed packages with the updates and
// security suites.
func upgradable(t *testing.T, ctx context.Context, status []byte) ([]patch.Finding, []patchtest.Advisory) {
	t.Helper()
	kr, err := archive.LoadKeyringFiles(ctx, "/usr/share/keyrings/debian-archive-keyring.gpg")
	if err != nil {
		t.Skipf("no Debian archive keyring on the host: %v", err)
	}
	client, err := archive.NewClient(archive.Options{CacheDir: t.TempDir(), Keyring: kr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := archive.ParseSourcesList(strings.NewReader(e2eSources), "e2e")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := client.LoadIndex(ctx, srcs[1:], "amd64")
	if err != nil {
		t.Fatal(err)
	}
	paras, err := deb.ParseParagraphs(bytes.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	var fs []patch.Finding
	var advs []patchtest.Advisory
	seen := map[string]bool{}
	for _, para := range paras {
		name, version := para.Get("Package"), para.Get("Version")
		cands := ix.Candidates(name)
		if len(cands) == 0 {
			continue
		}
		if n, err := deb.CompareVersions(cands[0].Version, version); err != nil || n <= 0 {
			continue
		}
		c := cands[0]
		id := "E2E-" + c.Source
		fs = append(fs, patch.Finding{VulnerabilityID: id, PkgName: name, InstalledVersion: version, FixedVersion: c.SourceVersion})
		if !seen[c.Source] {
			seen[c.Source] = true
			advs = append(advs, patchtest.Advisory{Source: c.Source, ID: id, Fixed: c.SourceVersion})
		}
	}
	return fs, advs
}

// runPatchedBinaries runs the executables a package ships in bin
// directories with --version and fails on a dynamic linking error.
func runPatchedBinaries(t *testing.T, ctx context.Context, root, pkg string) {
	t.Helper()
	list := sh(t, ctx, "", "chroot", root, "dpkg", "-L", pkg)
	for _, p := range strings.Split(strings.TrimSpace(list), "\n") {
		dir := filepath.Dir(p)
		if dir != "/usr/bin" && dir != "/bin" && dir != "/usr/sbin" && dir != "/sbin" {
			continue
		}
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			continue
		}
		cmd := exec.CommandContext(ctx, "chroot", root, p, "--version")
		cmd.Stdin = nil
		var outb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &outb, &outb
		_ = cmd.Run()
		if s := outb.String(); strings.Contains(s, "error while loading shared libraries") || strings.Contains(s, "symbol lookup error") || strings.Contains(s, "version `GLIBC") {
			t.Errorf("%s (%s): %s", p, pkg, s)
		} else {
			t.Logf("ran %s (%s)", p, pkg)
		}
	}
}

// sh runs a command and returns its standard output, failing the test on
// error.
func sh(t *testing.T, ctx context.Context, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.MultiWriter(&stderr)
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
