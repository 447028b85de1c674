package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// BenchmarkPatchRSS builds the patchloop binary and runs `patchloop patch`
// as a subprocess on a bookworm image (hello and 150 other packages) in
// the in-process registry, against a loopback repository whose bookworm
// index holds 63,440 synthetic paragraphs (~55 MB, as Debian's main), and
// reports the process's peak resident set (getrusage ru_maxrss) and wall
// time:
//   - first: an empty data directory (scan, index download and parse,
//     package download, patch, push);
//   - warm: the same data directory again (the parsed index on disk);
//   - dry-run: the same, --dry-run.
//
// The target is under 100 MB peak RSS whatever the index size;
// PATCHLOOP_RSS_PARAGRAPHS sets another number of paragraphs.
func BenchmarkPatchRSS(b *testing.B) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skip("no go tool to build patchloop with")
	}
	bin := filepath.Join(b.TempDir(), "patchloop")
	if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/patchloop/patchloop/cmd/patchloop").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	hello := func(v string) aptrepo.Package {
		return aptrepo.Package{Name: "hello", Version: v, Files: []deb.File{{Path: "usr/bin/hello", Data: []byte("hello " + v), Mode: 0o755}}}
	}
	paragraphs := 63440
	if v := os.Getenv("PATCHLOOP_RSS_PARAGRAPHS"); v != "" {
		if paragraphs, err = strconv.Atoi(v); err != nil || paragraphs < 0 {
			b.Fatalf("PATCHLOOP_RSS_PARAGRAPHS=%q: want a number of paragraphs", v)
		}
	}
	b.Logf("index: %d synthetic paragraphs", paragraphs)
	repo := aptrepo.New(b, aptrepo.Config{
		IndexFormats: []compression.Format{compression.Gzip},
		Suites: []aptrepo.Suite{{Name: "bookworm", Synthetic: paragraphs,
			Packages: []aptrepo.Package{hello("1.0-2")}}},
	})
	installed := []aptrepo.Package{hello("1.0-1")}
	for i := range 150 {
		installed = append(installed, aptrepo.Package{Name: fmt.Sprintf("pkg%03d", i), Version: "1.0-1"})
	}
	img := patchtest.Image(b, patchtest.ImageSpec{
		Release:     patchtest.Bookworm,
		Packages:    installed,
		SourcesList: "deb " + repo.URL + " bookworm main\n",
		Keyring:     repo.Keyring,
	})
	ref := registrytest.Start(b) + "/app:1.0"
	registrytest.Push(b, ref, img)
	db := patchtest.WriteDatabase(b, "debian 12", patchtest.Advisory{Source: "hello", ID: "CVE-2024-0001", Fixed: "1.0-2"})

	// patch runs the binary and returns its peak RSS in MB and wall time.
	patch := func(b *testing.B, dataDir string, args ...string) (float64, time.Duration) {
		argv := append([]string{bin, "patch", ref, "--db", db, "--data-dir", dataDir, "--tag-convention", "floating"}, args...)
		start := time.Now()
		out, rss, err := runMeasured(b, argv)
		if err != nil {
			b.Fatalf("patchloop patch: %v\n%s", err, out)
		}
		if !strings.Contains(out, "hello") {
			b.Fatalf("patchloop patch did not patch hello:\n%s", out)
		}
		return rss, time.Since(start)
	}
	primed := b.TempDir()
	patch(b, primed)
	var tables int64
	_ = filepath.WalkDir(primed, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && filepath.Base(filepath.Dir(p)) == "parsed" {
			if fi, err := d.Info(); err == nil && fi.Size() > 1024 {
				tables += fi.Size()
			}
		}
		return nil
	})
	b.Logf("parsed index tables: %.1f MB", float64(tables)/(1<<20))
	for _, mode := range []string{"first", "warm", "dry-run"} {
		b.Run(mode, func(b *testing.B) {
			var peak float64
			var total time.Duration
			for b.Loop() {
				dir := primed
				if mode == "first" {
					b.StopTimer()
					dir = b.TempDir()
					b.StartTimer()
				}
				var args []string
				if mode == "dry-run" {
					args = []string{"--dry-run"}
				}
				rss, took := patch(b, dir, args...)
				peak, total = max(peak, rss), total+took
			}
			b.ReportMetric(peak, "peak-RSS-MB")
			b.ReportMetric(total.Seconds()/float64(b.N), "s/patch")
		})
	}
	_ = os.Remove(bin)
}

// rssHelperEnv, when set, makes TestRSSHelperProcess run the command it
// names (fields separated by US, 0x1f) and print its peak RSS.
const rssHelperEnv = "PATCHLOOP_RSS_HELPER"

// runMeasured runs argv and returns its output and peak RSS in MB. A
// child of this test process would report this process's peak instead of
// its own: os/exec starts children with vfork, sharing this process's
// memory, and Linux carries the high-water mark of that memory across
// exec. So argv runs under a fresh, small helper process (this test
// binary, TestRSSHelperProcess), whose own child's ru_maxrss is exact.
func runMeasured(b *testing.B, argv []string) (string, float64, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRSSHelperProcess$")
	cmd.Env = append(os.Environ(), rssHelperEnv+"="+strings.Join(argv, "\x1f"))
	cmd.Dir = b.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), 0, err
	}
	i := bytes.LastIndex(out, []byte("maxrss-kib="))
	if i < 0 {
		return string(out), 0, fmt.Errorf("helper printed no maxrss")
	}
	var kib float64
	if _, err := fmt.Sscanf(string(out[i:]), "maxrss-kib=%g", &kib); err != nil {
		return string(out), 0, err
	}
	return string(out[:i]), kib / 1024, nil
}

// TestRSSHelperProcess is runMeasured's helper: it does nothing unless
// started by it.
func TestRSSHelperProcess(t *testing.T) {
	cmdline := os.Getenv(rssHelperEnv)
	if cmdline == "" {
		t.Skip("helper process of BenchmarkPatchRSS")
	}
	argv := strings.Split(cmdline, "\x1f")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "no rusage on this platform")
		os.Exit(1)
	}
	fmt.Printf("maxrss-kib=%d\n", ru.Maxrss) // Linux: KiB
	os.Exit(0)
}
