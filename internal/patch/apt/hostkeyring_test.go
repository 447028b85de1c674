package apt_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/apt"
	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The host's archive keyring verifies only the official archives of a
// Debian or Ubuntu image that trusts no keys: an image's os-release never
// picks a host file, and never extends host trust to its own sources.
func TestHostKeyringIsNotChosenByTheImage(t *testing.T) {
	t.Parallel()
	// A repository signed by a key the host must not trust for images.
	repo := aptrepo.New(t, aptrepo.Config{Suites: []aptrepo.Suite{{Name: "bookworm", Packages: []aptrepo.Package{hello("1.0-2")}}}})
	fs := []patch.Finding{{VulnerabilityID: "CVE-2024-0001", PkgName: "hello", InstalledVersion: "1.0-1", FixedVersion: "1.0-2"}}

	for _, tc := range []struct {
		name    string
		id      string
		hostKey func(root, hostDir string) string // where the foreign key is put on the host
		want    []string
	}{
		{
			name:    "traversal in ID",
			id:      "../../../x",
			hostKey: func(root, _ string) string { return filepath.Join(root, "x-archive-keyring.gpg") },
			want:    []string{`os-release ID "../../../x" is not debian or ubuntu`, "--keyring"},
		},
		{
			name:    "unknown ID",
			id:      "x",
			hostKey: func(_, hostDir string) string { return filepath.Join(hostDir, "x-archive-keyring.gpg") },
			want:    []string{`os-release ID "x" is not debian or ubuntu`, "--keyring"},
		},
		{
			name:    "debian with a source the image names",
			id:      "debian",
			hostKey: func(_, hostDir string) string { return filepath.Join(hostDir, "debian-archive-keyring.gpg") },
			want:    []string{"source " + repo.URL + " bookworm (/etc/apt/sources.list:1)", "only the official debian archives", "--keyring"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			hostDir := filepath.Join(root, "a", "b", "c")
			if err := os.MkdirAll(hostDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(tc.hostKey(root, hostDir), repo.Keyring, 0o644); err != nil {
				t.Fatal(err)
			}
			rel := patchtest.Release{ID: tc.id, VersionID: "12", Codename: "bookworm", Point: "12.5"}
			img := patchtest.Image(t, patchtest.ImageSpec{Release: rel, Packages: []aptrepo.Package{hello("1.0-1")}, SourcesList: sourcesFor(repo, "bookworm")})
			out, err := newPatcher(t, apt.Options{HostKeyringDir: hostDir}).Patch(context.Background(), img, patch.Request{Findings: fs, WorkDir: t.TempDir()})
			if err == nil {
				t.Fatalf("patched with a host keyring the image chose: %+v", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
			if n := repo.Requests("/dists/bookworm/InRelease"); n != 0 {
				t.Errorf("the repository was asked for its Release %d times before a keyring was settled", n)
			}
		})
	}

	t.Run("official archive through --apt-mirror", func(t *testing.T) {
		t.Parallel()
		hostDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(hostDir, "debian-archive-keyring.gpg"), repo.Keyring, 0o644); err != nil {
			t.Fatal(err)
		}
		img := patchtest.Image(t, patchtest.ImageSpec{
			Release:     patchtest.Bookworm,
			Packages:    []aptrepo.Package{hello("1.0-1")},
			SourcesList: "deb http://deb.debian.org/debian bookworm main\n",
		})
		var logs logBuffer
		p := newPatcher(t, apt.Options{Mirror: repo.URL, HostKeyringDir: hostDir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		out, err := p.Patch(context.Background(), img, patch.Request{Findings: fs, DryRun: true})
		if err != nil || len(out.Updates) != 1 {
			t.Fatalf("outcome = %+v, err = %v", out, err)
		}
		want := `msg="apt patcher: source verified by keyring" source="` + repo.URL + ` bookworm" origin=/etc/apt/sources.list:1 keyring="the host's ` + filepath.Join(hostDir, "debian-archive-keyring.gpg") + `"`
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s\n%s", want, logs.String())
		}
	})
}
