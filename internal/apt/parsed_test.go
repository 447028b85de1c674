package apt_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// loadAll loads the bookworm sources with a fresh client on dir and
// returns the candidates of libssl3 and the client's counts.
func loadAll(t *testing.T, repo *aptrepo.Repo, dir string) ([]apt.Candidate, apt.IndexStats) {
	t.Helper()
	c := newClient(t, dir, repoKeyring(t, repo))
	ix, err := c.LoadIndex(context.Background(), sources(repo, nil), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	return ix.Candidates("libssl3"), c.IndexStats()
}

func TestParsedIndexReusedWhileDigestMatches(t *testing.T) {
	t.Parallel()
	repo := aptrepo.New(t, bookworm())
	dir := t.TempDir()
	first, stats := loadAll(t, repo, dir)
	if diff := cmp.Diff(apt.IndexStats{Parsed: 2}, stats); diff != "" {
		t.Errorf("first load (-want +got):\n%s", diff)
	}
	if len(first) != 2 {
		t.Fatalf("libssl3 candidates = %d, want 2", len(first))
	}
	second, stats := loadAll(t, repo, dir)
	if diff := cmp.Diff(apt.IndexStats{Loaded: 2}, stats); diff != "" {
		t.Errorf("second load, another client on the same cache (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("candidates from the parsed cache differ (-parsed +loaded):\n%s", diff)
	}

	// One client loading twice keeps the tables in memory.
	c := newClient(t, dir, repoKeyring(t, repo))
	for range 3 {
		if _, err := c.LoadIndex(context.Background(), sources(repo, nil), "amd64"); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(apt.IndexStats{Loaded: 2}, c.IndexStats()); diff != "" {
		t.Errorf("three loads by one client (-want +got):\n%s", diff)
	}
}

func TestParsedIndexInvalidatedByNewRelease(t *testing.T) {
	t.Parallel()
	repo := aptrepo.New(t, bookworm())
	dir := t.TempDir()
	c := newClient(t, dir, repoKeyring(t, repo))
	if _, err := c.LoadIndex(context.Background(), sources(repo, nil), "amd64"); err != nil {
		t.Fatal(err)
	}
	repo.Update(t, func(cfg *aptrepo.Config) {
		cfg.Suites[0].Packages = append(cfg.Suites[0].Packages,
			aptrepo.Package{Name: "libssl3", Source: "openssl", Version: "3.0.16-1~deb12u1", Depends: "libc6 (>= 2.34)"})
	})
	fresh := newClient(t, dir, repoKeyring(t, repo))
	for i, c := range []*apt.Client{c, fresh} {
		name := []string{"same client", "new client"}[i]
		ix, err := c.LoadIndex(context.Background(), sources(repo, nil), "amd64")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, cand := range ix.Candidates("libssl3") {
			got = append(got, cand.Version)
		}
		if diff := cmp.Diff([]string{"3.0.16-1~deb12u1", "3.0.15-1~deb12u1", "3.0.14-1~deb12u2"}, got); diff != "" {
			t.Errorf("%s: libssl3 after the new InRelease (-want +got):\n%s", name, diff)
		}
	}
	// The first client parsed both indexes, then the changed one; the new
	// client found both parsed forms on disk.
	if diff := cmp.Diff(apt.IndexStats{Parsed: 3}, c.IndexStats()); diff != "" {
		t.Errorf("first client (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(apt.IndexStats{Loaded: 2}, fresh.IndexStats()); diff != "" {
		t.Errorf("new client (-want +got):\n%s", diff)
	}
}

// parsedFiles returns the parsed index files under dir (not the key).
func parsedFiles(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "parsed", "[0-9a-f]*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no parsed index files under %s (%v)", dir, err)
	}
	return paths
}

func TestTamperedParsedIndexRebuilt(t *testing.T) {
	t.Parallel()
	repo := aptrepo.New(t, bookworm())
	evil := bytes.Repeat([]byte("e"), 64)
	for name, tamper := range map[string]func([]byte) []byte{
		// A record's SHA256 swapped: the file structure stays valid.
		"record changed": func(data []byte) []byte {
			out := bytes.Clone(data)
			if i := indexSHA256Field(out); i >= 0 {
				copy(out[i:], evil)
			}
			return out
		},
		"truncated": func(data []byte) []byte { return data[:len(data)/2] },
		"empty":     func([]byte) []byte { return nil },
		"bit flip":  func(data []byte) []byte { out := bytes.Clone(data); out[len(out)/3] ^= 1; return out },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			want, _ := loadAll(t, repo, dir)
			for _, p := range parsedFiles(t, dir) {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, tamper(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, stats := loadAll(t, repo, dir)
			if diff := cmp.Diff(apt.IndexStats{Parsed: 2, Rejected: 2}, stats); diff != "" {
				t.Errorf("load after tampering (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("candidates after rebuilding (-want +got):\n%s", diff)
			}
			// The rebuilt files are trusted again.
			if _, stats := loadAll(t, repo, dir); stats != (apt.IndexStats{Loaded: 2}) {
				t.Errorf("load after rebuilding = %+v, want 2 loaded", stats)
			}
		})
	}
}

// indexSHA256Field returns where the first 64-hex-digit SHA256 of a
// package record starts in a parsed index file, or -1.
func indexSHA256Field(data []byte) int {
	for i := 40; i+65 <= len(data); i++ {
		if data[i] != 64 {
			continue
		}
		ok := true
		for _, b := range data[i+1 : i+65] {
			if !(b >= '0' && b <= '9' || b >= 'a' && b <= 'f') {
				ok = false
				break
			}
		}
		if ok {
			return i + 1
		}
	}
	return -1
}

func TestTamperedRawIndexDownloadedAgain(t *testing.T) {
	t.Parallel()
	repo := aptrepo.New(t, bookworm())
	dir := t.TempDir()
	want, _ := loadAll(t, repo, dir)
	// Replace the stored raw indexes with same-sized garbage and drop the
	// parsed forms: the rebuild must notice and fetch the index again.
	for _, p := range parsedFiles(t, dir) {
		raw := filepath.Join(dir, "sha256", filepath.Base(p))
		fi, err := os.Stat(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(raw, bytes.Repeat([]byte{'x'}, int(fi.Size())), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	before := repo.Fetches("dists/bookworm/main/binary-amd64/Packages.gz")
	got, stats := loadAll(t, repo, dir)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("candidates after re-download (-want +got):\n%s", diff)
	}
	if stats.Parsed != 2 || repo.Fetches("dists/bookworm/main/binary-amd64/Packages.gz") != before+1 {
		t.Errorf("stats = %+v, Packages.gz fetched %d more times; want 2 parsed and 1 new fetch", stats, repo.Fetches("dists/bookworm/main/binary-amd64/Packages.gz")-before)
	}
}
