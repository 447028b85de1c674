package apt_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// bookworm is a repository with a main suite and a security suite whose
// libssl3 is older than main's, as after a point release.
func bookworm() aptrepo.Config {
	return aptrepo.Config{Suites: []aptrepo.Suite{
		{Name: "bookworm", Packages: []aptrepo.Package{
			{Name: "libssl3", Source: "openssl", Version: "3.0.15-1~deb12u1", Depends: "libc6 (>= 2.34)"},
			{Name: "openssl", Version: "3.0.15-1~deb12u1", Depends: "libssl3 (>= 3.0.9)"},
			{Name: "tzdata", Version: "2024a-0+deb12u1", Arch: "all"},
			{Name: "base-files", Version: "12.4+deb12u8", Extra: []deb.Field{{Name: "Essential", Value: "yes"}}},
		}},
		{Name: "bookworm-security", Packages: []aptrepo.Package{
			{Name: "libssl3", Source: "openssl", Version: "3.0.14-1~deb12u2", Depends: "libc6 (>= 2.34)"},
			{Name: "curl", Version: "7.88.1-10+deb12u8", Files: []deb.File{{Path: "usr/bin/curl", Mode: 0o755, Data: []byte("curl\n")}}},
		}},
	}}
}

func sources(repo *aptrepo.Repo, kr *apt.Keyring) []apt.Source {
	return []apt.Source{
		{URI: repo.URL, Suite: "bookworm", Components: []string{"main"}, Keyring: kr},
		{URI: repo.URL, Suite: "bookworm-security", Components: []string{"main"}, Keyring: kr},
	}
}

func repoKeyring(t *testing.T, repo *aptrepo.Repo) *apt.Keyring {
	t.Helper()
	kr, err := apt.LoadKeyringFiles(context.Background(), repo.KeyringPath)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newClient(t *testing.T, dir string, kr *apt.Keyring) *apt.Client {
	t.Helper()
	c, err := apt.NewClient(apt.Options{
		CacheDir: dir,
		Keyring:  kr,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadIndexCandidatesAcrossSuites(t *testing.T) {
	repo := aptrepo.New(t, bookworm())
	kr := repoKeyring(t, repo)
	c := newClient(t, t.TempDir(), nil)
	ix, err := c.LoadIndex(context.Background(), sources(repo, kr), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	cands := ix.Candidates("libssl3")
	if len(cands) != 2 {
		t.Fatalf("got %d candidates, want 2: %+v", len(cands), cands)
	}
	if cands[0].Version != "3.0.15-1~deb12u1" || cands[0].Suite != "bookworm" {
		t.Errorf("highest = %s from %s, want 3.0.15-1~deb12u1 from bookworm", cands[0].Version, cands[0].Suite)
	}
	if cands[1].Version != "3.0.14-1~deb12u2" || cands[1].Suite != "bookworm-security" {
		t.Errorf("second = %s from %s, want 3.0.14-1~deb12u2 from bookworm-security", cands[1].Version, cands[1].Suite)
	}
	p := cands[0]
	if p.Source != "openssl" || p.SourceVersion != "3.0.15-1~deb12u1" || p.Depends != "libc6 (>= 2.34)" ||
		p.Architecture != "amd64" || p.Component != "main" || p.URI != repo.URL {
		t.Errorf("candidate = %+v", p)
	}
	wantFile := "pool/main/o/openssl/libssl3_3.0.15-1~deb12u1_amd64.deb"
	if p.Filename != wantFile || p.Size != int64(len(repo.File(wantFile))) || p.URL() != repo.URL+"/"+wantFile {
		t.Errorf("Filename %s Size %d URL %s", p.Filename, p.Size, p.URL())
	}
	if got := ix.Candidates("tzdata"); len(got) != 1 || got[0].Architecture != "all" {
		t.Errorf("tzdata = %+v", got)
	}
	if got := ix.Candidates("base-files"); len(got) != 1 || !got[0].Essential {
		t.Errorf("base-files = %+v", got)
	}
	if got := ix.Candidates("missing"); len(got) != 0 {
		t.Errorf("missing = %+v", got)
	}
	// The gz variant is preferred; no other variant is fetched.
	if n := repo.Fetches("dists/bookworm/main/binary-amd64/Packages.gz"); n != 1 {
		t.Errorf("Packages.gz fetched %d times", n)
	}
	if n := repo.Requests("dists/bookworm/main/binary-amd64/Packages.xz") + repo.Requests("dists/bookworm/main/binary-amd64/Packages"); n != 0 {
		t.Errorf("other Packages variants requested %d times", n)
	}
}

func TestFetchDeb(t *testing.T) {
	repo := aptrepo.New(t, bookworm())
	dir := t.TempDir()
	c := newClient(t, dir, repoKeyring(t, repo))
	ctx := context.Background()
	ix, err := c.LoadIndex(ctx, sources(repo, nil), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	curl := ix.Candidates("curl")[0]
	path, err := c.FetchDeb(ctx, curl)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, repo.File(curl.Filename)) {
		t.Fatal("cached .deb differs from the published one")
	}
	info, err := deb.ReadInfo(ctx, bytes.NewReader(got))
	if err != nil || info.Package() != "curl" {
		t.Fatalf("reading fetched package: %v %+v", err, info)
	}
	if _, err := c.FetchDeb(ctx, curl); err != nil {
		t.Fatal(err)
	}
	if n := repo.Requests(curl.Filename); n != 1 {
		t.Errorf(".deb requested %d times, want 1", n)
	}
}

func TestTamperedDebRejectedAndNotKept(t *testing.T) {
	repo := aptrepo.New(t, bookworm())
	dir := t.TempDir()
	c := newClient(t, dir, repoKeyring(t, repo))
	ctx := context.Background()
	ix, err := c.LoadIndex(ctx, sources(repo, nil), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	cand := ix.Candidates("openssl")[0]
	cases := map[string]func([]byte) []byte{
		"flipped byte": func(b []byte) []byte { b[len(b)/2] ^= 0xff; return b },
		"truncated":    func(b []byte) []byte { return b[:len(b)-10] },
		"extended":     func(b []byte) []byte { return append(b, "trailing"...) },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			orig := repo.File(cand.Filename)
			repo.Tamper(t, cand.Filename, tamper)
			defer repo.Tamper(t, cand.Filename, func([]byte) []byte { return orig })
			path, err := c.FetchDeb(ctx, cand)
			if !errors.Is(err, apt.ErrHashMismatch) {
				t.Fatalf("FetchDeb = %q, %v; want ErrHashMismatch", path, err)
			}
			for _, want := range []string{"openssl", cand.URL()} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			assertNotCached(t, dir, cand.SHA256)
		})
	}
}

// assertNotCached checks that no file of the cache holds the named
// content, complete or partial.
func assertNotCached(t *testing.T, dir, sha string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), sha) {
			t.Errorf("cache keeps %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPackagesHashMismatchRejected(t *testing.T) {
	repo := aptrepo.New(t, bookworm())
	dir := t.TempDir()
	c := newClient(t, dir, repoKeyring(t, repo))
	const index = "dists/bookworm-security/main/binary-amd64/Packages.gz"
	other := compressXZ(t, []byte("Package: evil\nVersion: 9\nArchitecture: amd64\nFilename: pool/evil.deb\nSize: 1\nSHA256: "+strings.Repeat("a", 64)+"\n"))
	repo.Tamper(t, index, func([]byte) []byte { return other })
	_, err := c.LoadIndex(context.Background(), sources(repo, nil), "amd64")
	if !errors.Is(err, apt.ErrHashMismatch) || !strings.Contains(err.Error(), repo.URL+"/"+index) {
		t.Fatalf("LoadIndex error = %v; want ErrHashMismatch naming %s", err, index)
	}
	if n := repo.Requests("dists/bookworm-security/main/binary-amd64/Packages.xz"); n != 0 {
		t.Errorf("fell back to Packages.xz after a mismatch (%d requests)", n)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), "partial") {
			t.Errorf("partial download left behind: %s", e.Name())
		}
	}
}

func compressXZ(t *testing.T, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := compression.NewWriter(&buf, compression.XZ)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIndexFormatFallback(t *testing.T) {
	t.Run("only gz listed", func(t *testing.T) {
		cfg := bookworm()
		cfg.IndexFormats = []compression.Format{compression.Gzip}
		repo := aptrepo.New(t, cfg)
		c := newClient(t, t.TempDir(), repoKeyring(t, repo))
		ix, err := c.LoadIndex(context.Background(), sources(repo, nil), "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if len(ix.Candidates("libssl3")) != 2 || repo.Fetches("dists/bookworm/main/binary-amd64/Packages.gz") != 1 {
			t.Errorf("gz index not used")
		}
	})
	t.Run("only xz listed", func(t *testing.T) {
		cfg := bookworm()
		cfg.IndexFormats = []compression.Format{compression.XZ}
		repo := aptrepo.New(t, cfg)
		c := newClient(t, t.TempDir(), repoKeyring(t, repo))
		ix, err := c.LoadIndex(context.Background(), sources(repo, nil), "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if len(ix.Candidates("libssl3")) != 2 || repo.Fetches("dists/bookworm/main/binary-amd64/Packages.xz") != 1 {
			t.Errorf("xz index not used")
		}
	})
	t.Run("compressed variants listed but missing", func(t *testing.T) {
		repo := aptrepo.New(t, bookworm())
		repo.Remove(t, "dists/bookworm/main/binary-amd64/Packages.xz")
		repo.Remove(t, "dists/bookworm/main/binary-amd64/Packages.gz")
		c := newClient(t, t.TempDir(), repoKeyring(t, repo))
		ix, err := c.LoadIndex(context.Background(), sources(repo, nil), "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if len(ix.Candidates("libssl3")) != 2 || repo.Fetches("dists/bookworm/main/binary-amd64/Packages") != 1 {
			t.Errorf("uncompressed index not used")
		}
	})
	t.Run("component not provided", func(t *testing.T) {
		repo := aptrepo.New(t, bookworm())
		c := newClient(t, t.TempDir(), repoKeyring(t, repo))
		srcs := sources(repo, nil)
		srcs[0].Components = []string{"main", "contrib"}
		ix, err := c.LoadIndex(context.Background(), srcs, "amd64")
		if err != nil || len(ix.Candidates("libssl3")) != 2 {
			t.Fatalf("LoadIndex = %v", err)
		}
	})
	t.Run("source restricted to another architecture", func(t *testing.T) {
		repo := aptrepo.New(t, bookworm())
		c := newClient(t, t.TempDir(), repoKeyring(t, repo))
		srcs := sources(repo, nil)
		srcs[1].Architectures = []string{"arm64"}
		ix, err := c.LoadIndex(context.Background(), srcs, "amd64")
		if err != nil || len(ix.Candidates("libssl3")) != 1 || repo.Requests("dists/bookworm-security/InRelease") != 0 {
			t.Fatalf("LoadIndex = %v", err)
		}
	})
	t.Run("architecture not provided", func(t *testing.T) {
		repo := aptrepo.New(t, bookworm())
		c := newClient(t, t.TempDir(), repoKeyring(t, repo))
		ix, err := c.LoadIndex(context.Background(), sources(repo, nil), "arm64")
		if err != nil || len(ix.Candidates("libssl3")) != 0 {
			t.Fatalf("LoadIndex = %v", err)
		}
	})
}

func TestCacheReusedAcrossClients(t *testing.T) {
	for _, noETag := range []bool{false, true} {
		name := "etag"
		if noETag {
			name = "if-modified-since"
		}
		t.Run(name, func(t *testing.T) {
			cfg := bookworm()
			cfg.NoETag = noETag
			repo := aptrepo.New(t, cfg)
			dir := t.TempDir()
			kr := repoKeyring(t, repo)
			ctx := context.Background()
			for range 2 {
				ix, err := newClient(t, dir, kr).LoadIndex(ctx, sources(repo, nil), "amd64")
				if err != nil {
					t.Fatal(err)
				}
				if len(ix.Candidates("libssl3")) != 2 {
					t.Fatal("index incomplete")
				}
			}
			for _, suite := range []string{"bookworm", "bookworm-security"} {
				in := "dists/" + suite + "/InRelease"
				if r, f := repo.Requests(in), repo.Fetches(in); r != 2 || f != 1 {
					t.Errorf("%s: %d requests, %d full fetches; want 2 and 1", in, r, f)
				}
				idx := "dists/" + suite + "/main/binary-amd64/Packages.gz"
				if n := repo.Requests(idx); n != 1 {
					t.Errorf("%s requested %d times, want 1", idx, n)
				}
			}

			// A new package in the security suite changes only its index.
			repo.Update(t, func(c *aptrepo.Config) {
				c.Suites[1].Packages = append(c.Suites[1].Packages, aptrepo.Package{Name: "zlib1g", Source: "zlib", Version: "1:1.2.13.dfsg-1"})
			})
			ix, err := newClient(t, dir, kr).LoadIndex(ctx, sources(repo, nil), "amd64")
			if err != nil {
				t.Fatal(err)
			}
			if len(ix.Candidates("zlib1g")) != 1 {
				t.Error("new package not seen after the update")
			}
			if n := repo.Requests("dists/bookworm-security/main/binary-amd64/Packages.gz"); n != 2 {
				t.Errorf("changed index requested %d times, want 2", n)
			}
			if n := repo.Requests("dists/bookworm/main/binary-amd64/Packages.gz"); n != 1 {
				t.Errorf("unchanged index requested %d times, want 1", n)
			}
		})
	}
}

func TestConcurrentLoadsShareDownloads(t *testing.T) {
	repo := aptrepo.New(t, bookworm())
	c := newClient(t, t.TempDir(), repoKeyring(t, repo))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			ix, err := c.LoadIndex(ctx, sources(repo, nil), "amd64")
			if err == nil && len(ix.Candidates("libssl3")) != 2 {
				err = errors.New("index incomplete")
			}
			if err == nil {
				_, err = c.FetchDeb(ctx, ix.Candidates("curl")[0])
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{
		"dists/bookworm/main/binary-amd64/Packages.gz",
		"dists/bookworm-security/main/binary-amd64/Packages.gz",
		"pool/main/c/curl/curl_7.88.1-10+deb12u8_amd64.deb",
	} {
		if n := repo.Fetches(p); n != 1 {
			t.Errorf("%s fetched %d times, want 1", p, n)
		}
	}
}

func TestReleaseVerificationFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("wrong key", func(t *testing.T) {
		repo := aptrepo.New(t, bookworm())
		other, err := apt.ParseKeyring(aptrepo.NewKey(t, aptrepo.KeyOptions{}).PublicKeyring(t))
		if err != nil {
			t.Fatal(err)
		}
		_, err = newClient(t, t.TempDir(), other).LoadIndex(ctx, sources(repo, nil), "amd64")
		if !errors.Is(err, apt.ErrUnknownKey) || !strings.Contains(err.Error(), repo.URL+"/dists/bookworm/InRelease") {
			t.Fatalf("err = %v; want ErrUnknownKey naming the InRelease URL", err)
		}
	})
	t.Run("signed by another key", func(t *testing.T) {
		trusted := aptrepo.NewKey(t, aptrepo.KeyOptions{})
		cfg := bookworm()
		cfg.Key = aptrepo.NewKey(t, aptrepo.KeyOptions{})
		repo := aptrepo.New(t, cfg)
		kr, err := apt.ParseKeyring(trusted.ArmoredPublicKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newClient(t, t.TempDir(), kr).FetchRelease(ctx, sources(repo, nil)[0]); !errors.Is(err, apt.ErrUnknownKey) {
			t.Fatalf("err = %v; want ErrUnknownKey", err)
		}
	})
	t.Run("expired key", func(t *testing.T) {
		cfg := bookworm()
		cfg.Key = aptrepo.NewKey(t, aptrepo.KeyOptions{Created: time.Now().Add(-48 * time.Hour), Lifetime: 24 * time.Hour})
		repo := aptrepo.New(t, cfg)
		_, err := newClient(t, t.TempDir(), repoKeyring(t, repo)).FetchRelease(ctx, sources(repo, nil)[0])
		if !errors.Is(err, apt.ErrKeyExpired) {
			t.Fatalf("err = %v; want ErrKeyExpired", err)
		}
	})
	t.Run("revoked key", func(t *testing.T) {
		cfg := bookworm()
		cfg.Key = aptrepo.NewKey(t, aptrepo.KeyOptions{Revoked: true})
		repo := aptrepo.New(t, cfg)
		_, err := newClient(t, t.TempDir(), repoKeyring(t, repo)).FetchRelease(ctx, sources(repo, nil)[0])
		if !errors.Is(err, apt.ErrKeyRevoked) {
			t.Fatalf("err = %v; want ErrKeyRevoked", err)
		}
	})
	t.Run("modified InRelease", func(t *testing.T) {
		repo := aptrepo.New(t, bookworm())
		repo.Tamper(t, "dists/bookworm/InRelease", func(b []byte) []byte {
			return bytes.Replace(b, []byte("Label: Patchloop Test"), []byte("Label: Patchloop Evil"), 1)
		})
		_, err := newClient(t, t.TempDir(), repoKeyring(t, repo)).FetchRelease(ctx, sources(repo, nil)[0])
		if !errors.Is(err, apt.ErrBadSignature) {
			t.Fatalf("err = %v; want ErrBadSignature", err)
		}
	})
	t.Run("no keyring", func(t *testing.T) {
		repo := aptrepo.New(t, bookworm())
		if _, err := newClient(t, t.TempDir(), nil).FetchRelease(ctx, sources(repo, nil)[0]); err == nil || !strings.Contains(err.Error(), "no keyring") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestValidUntil(t *testing.T) {
	cfg := bookworm()
	cfg.Date = time.Now().Add(-10 * 24 * time.Hour)
	cfg.ValidUntil = time.Now().Add(-time.Hour)
	repo := aptrepo.New(t, cfg)
	c := newClient(t, t.TempDir(), repoKeyring(t, repo))
	src := sources(repo, nil)[0]
	_, err := c.FetchRelease(context.Background(), src)
	if !errors.Is(err, apt.ErrReleaseExpired) {
		t.Fatalf("err = %v; want ErrReleaseExpired", err)
	}
	src.IgnoreValidUntil = true
	rel, err := c.FetchRelease(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if !rel.ValidUntil.Equal(cfg.ValidUntil.Truncate(time.Second)) {
		t.Errorf("ValidUntil = %v, want %v", rel.ValidUntil, cfg.ValidUntil)
	}
}

func TestReleaseAndDetachedSignature(t *testing.T) {
	cfg := bookworm()
	cfg.NoInRelease = true
	repo := aptrepo.New(t, cfg)
	c := newClient(t, t.TempDir(), repoKeyring(t, repo))
	ctx := context.Background()
	rel, err := c.FetchRelease(ctx, sources(repo, nil)[0])
	if err != nil {
		t.Fatal(err)
	}
	if rel.Suite != "bookworm" || len(rel.Files) != 3 {
		t.Errorf("release = %+v", rel)
	}
	if repo.Requests("dists/bookworm/InRelease") != 1 || repo.Fetches("dists/bookworm/Release.gpg") != 1 {
		t.Error("did not fall back from InRelease to Release.gpg")
	}

	repo.Tamper(t, "dists/bookworm/Release", func(b []byte) []byte { return append(b, "X-Extra: 1\n"...) })
	if _, err := c.FetchRelease(ctx, sources(repo, nil)[0]); !errors.Is(err, apt.ErrBadSignature) {
		t.Fatalf("tampered Release: %v; want ErrBadSignature", err)
	}
	repo.Remove(t, "dists/bookworm/Release.gpg")
	if _, err := c.FetchRelease(ctx, sources(repo, nil)[0]); !errors.Is(err, apt.ErrNoSignature) {
		t.Fatalf("unsigned Release: %v; want ErrNoSignature", err)
	}
}

func TestNewClientNeedsCacheDir(t *testing.T) {
	if _, err := apt.NewClient(apt.Options{}); err == nil {
		t.Fatal("no error without a cache directory")
	}
}
