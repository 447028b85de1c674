package rpmmd_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmmd"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

const repoPath = "rocky/9/BaseOS/x86_64/os"

func packages() []rpmrepo.Package {
	return []rpmrepo.Package{
		{Name: "hello", Epoch: "1", Version: "2.0", Release: "3.el9", PreIn: "true", PostIn: "true", PostUn: "true", ScriptletRequires: true,
			Provides:  []rpm.Dep{{Name: "greeter", Flags: rpm.SenseEqual, Version: "2.0"}},
			Requires:  []rpm.Dep{{Name: "libfoo.so.1()(64bit)"}, {Name: "(bash or zsh)"}, {Name: "coreutils", Flags: rpm.SenseGreater | rpm.SenseEqual, Version: "8.32"}},
			Obsoletes: []rpm.Dep{{Name: "hello-legacy", Flags: rpm.SenseLess, Version: "2"}},
			Files: []rpmrepo.File{{Path: "/usr/bin/hello", Mode: 0o755, Content: []byte("hi")}, {Path: "/etc/hello.conf", Content: []byte("x"), Flags: rpm.FileConfig | rpm.FileNoReplace},
				{Path: "/etc/hello.d", Dir: true}, {Path: "/usr/share/doc/hello/README", Content: []byte("doc")}, {Path: "/etc/hello.ghost", Flags: rpm.FileGhost}}},
		{Name: "libfoo", Version: "1.2", Release: "1.el9", Compressor: "zstd", SourceRPM: "foo-1.2-1.el9.src.rpm",
			Provides: []rpm.Dep{{Name: "libfoo.so.1()(64bit)"}},
			Files:    []rpmrepo.File{{Path: "/usr/lib64/libfoo.so.1", Content: []byte("elf")}}},
	}
}

func keyring(t *testing.T, k *rpmrepo.Key) *rpm.Keyring {
	t.Helper()
	kr, err := rpm.ParseKeyring("key", k.PublicArmored())
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newClient(t *testing.T) *rpmmd.Client {
	t.Helper()
	c, err := rpmmd.NewClient(rpmmd.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadAndFetch(t *testing.T) {
	ctx := context.Background()
	for _, comp := range []string{"gz", "xz", "zst"} {
		t.Run(comp, func(t *testing.T) {
			srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages(), Compression: comp}}})
			c := newClient(t)
			repo := rpmmd.Repo{ID: "baseos", BaseURLs: []string{srv.RepoURL(repoPath)}, Enabled: true, GPGCheck: true, RepoGPGCheck: true}
			md, err := c.Load(ctx, repo, keyring(t, rpmrepo.RepoKey()))
			if err != nil {
				t.Fatal(err)
			}
			if !md.Signed || len(md.Packages) != 2 {
				t.Fatalf("signed %v, %d packages", md.Signed, len(md.Packages))
			}
			p := md.Packages[0]
			if p.NEVRA() != "hello-1:2.0-3.el9.x86_64" || p.SourceRPM != "hello-2.0-3.el9.src.rpm" || p.Location != "Packages/hello-2.0-3.el9.x86_64.rpm" {
				t.Errorf("package %s from %s at %s", p.NEVRA(), p.SourceRPM, p.Location)
			}
			f, err := c.Fetch(ctx, md, p)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(f)
			if err != nil || !bytes.Equal(data, srv.Built(repoPath, "hello-1:2.0-3.el9.x86_64").Data) {
				t.Fatalf("fetched file differs: %v", err)
			}
			// A second load revalidates: repomd.xml is asked again and
			// answered 304; primary is reused the same way.
			before := srv.Hits(rpmrepo.RepomdPath(repoPath))
			if _, err := c.Load(ctx, repo, keyring(t, rpmrepo.RepoKey())); err != nil {
				t.Fatal(err)
			}
			if srv.Hits(rpmrepo.RepomdPath(repoPath)) != before+1 {
				t.Errorf("repomd.xml not revalidated")
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	ctx := context.Background()
	trusted := keyring(t, rpmrepo.RepoKey())
	type setup struct {
		repo   rpmrepo.Repository
		tamper func(*rpmrepo.Server)
		gpg    bool
	}
	cases := map[string]struct {
		setup
		is error
	}{
		"repomd changed after signing": {setup{rpmrepo.Repository{Path: repoPath, Packages: packages()}, func(s *rpmrepo.Server) {
			p := rpmrepo.RepomdPath(repoPath)
			s.SetFile(p, bytes.Replace(s.File(p), []byte("<revision>"), []byte("<revision>9"), 1))
		}, false}, rpm.ErrBadSignature},
		"unsigned with repo_gpgcheck":    {setup{rpmrepo.Repository{Path: repoPath, Packages: packages(), Unsigned: true}, nil, true}, rpmmd.ErrUnsignedRepomd},
		"foreign key with repo_gpgcheck": {setup{rpmrepo.Repository{Path: repoPath, Packages: packages(), Key: rpmrepo.StrangerKey()}, nil, true}, rpm.ErrUntrustedKey},
		"primary changed": {setup{rpmrepo.Repository{Path: repoPath, Packages: packages()}, func(s *rpmrepo.Server) {
			md, _ := rpmmd.ParseRepomd(s.File(rpmrepo.RepomdPath(repoPath)))
			p := repoPath + "/" + md.Data["primary"].Location
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write([]byte(`<metadata/>`))
			zw.Close()
			s.SetFile(p, buf.Bytes())
		}, false}, rpmmd.ErrChecksum},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{tc.repo}})
			if tc.tamper != nil {
				tc.tamper(srv)
			}
			_, err := newClient(t).Load(ctx, rpmmd.Repo{ID: "baseos", File: "etc/yum.repos.d/t.repo", BaseURLs: []string{srv.RepoURL(repoPath)}, RepoGPGCheck: tc.gpg}, trusted)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), "baseos") {
				t.Errorf("error %v does not name the repository", err)
			}
		})
	}
	// A signature by an unknown key is ignored without repo_gpgcheck, as
	// dnf ignores it.
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages(), Key: rpmrepo.StrangerKey()}}})
	md, err := newClient(t).Load(ctx, rpmmd.Repo{ID: "baseos", BaseURLs: []string{srv.RepoURL(repoPath)}}, trusted)
	if err != nil || md.Signed {
		t.Errorf("foreign key without repo_gpgcheck: signed %v, %v", md != nil && md.Signed, err)
	}
}

func TestFetchRefusesTamperedPackage(t *testing.T) {
	ctx := context.Background()
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages()}}})
	c := newClient(t)
	md, err := c.Load(ctx, rpmmd.Repo{ID: "baseos", BaseURLs: []string{srv.RepoURL(repoPath)}}, keyring(t, rpmrepo.RepoKey()))
	if err != nil {
		t.Fatal(err)
	}
	pp := rpmrepo.PackagePath(repoPath, packages()[0])
	good := srv.File(pp)
	bad := bytes.Clone(good)
	bad[len(bad)-3] ^= 1
	srv.SetFile(pp, bad)
	if _, err := c.Fetch(ctx, md, md.Packages[0]); !errors.Is(err, rpmmd.ErrChecksum) {
		t.Fatalf("tampered package: %v, want ErrChecksum", err)
	}
	srv.SetFile(pp, append(good, 0))
	if _, err := c.Fetch(ctx, md, md.Packages[0]); !errors.Is(err, rpmmd.ErrChecksum) {
		t.Fatalf("longer package: %v, want ErrChecksum", err)
	}
	srv.SetFile(pp, good)
	if _, err := c.Fetch(ctx, md, md.Packages[0]); err != nil {
		t.Fatalf("good package after failures: %v", err)
	}
}

func TestMetalinkAndMirrorlist(t *testing.T) {
	ctx := context.Background()
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages()}}})
	repomd := srv.File(rpmrepo.RepomdPath(repoPath))
	metalink := func(sum []byte) []byte {
		return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" xmlns:mm0="http://fedorahosted.org/mirrormanager">
 <files><file name="repomd.xml">
  <mm0:timestamp>1717200000</mm0:timestamp><size>%d</size>
  <verification><hash type="md5">00000000000000000000000000000000</hash><hash type="sha256">%x</hash></verification>
  <resources maxconnections="1">
   <url protocol="http" type="http" location="XX" preference="100">http://127.0.0.1:1/dead/repodata/repomd.xml</url>
   <url protocol="http" type="http" location="XX" preference="99">%srepodata/repomd.xml</url>
  </resources>
 </file></files>
</metalink>`, len(repomd), sum, srv.RepoURL(repoPath)))
	}
	good := sha256.Sum256(repomd)
	srv.SetFile("metalink/good", metalink(good[:]))
	srv.SetFile("metalink/bad", metalink(make([]byte, 32)))
	srv.SetFile("mirrorlist", []byte("# mirrors\nhttp://127.0.0.1:1/dead/\n"+srv.RepoURL(repoPath)+"\n"))
	kr := keyring(t, rpmrepo.RepoKey())
	for name, repo := range map[string]rpmmd.Repo{
		"metalink":               {ID: "m", Metalink: srv.URL() + "/metalink/good"},
		"metalink at mirrorlist": {ID: "m", Mirrorlist: srv.URL() + "/metalink/good"},
		"mirrorlist":             {ID: "m", Mirrorlist: srv.URL() + "/mirrorlist"},
	} {
		md, err := newClient(t).Load(ctx, repo, kr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if md.BaseURL != srv.RepoURL(repoPath) || len(md.Packages) != 2 {
			t.Errorf("%s: loaded from %s, %d packages", name, md.BaseURL, len(md.Packages))
		}
	}
	if _, err := newClient(t).Load(ctx, rpmmd.Repo{ID: "m", Metalink: srv.URL() + "/metalink/bad"}, kr); !errors.Is(err, rpmmd.ErrChecksum) {
		t.Errorf("repomd.xml not matching the metalink: %v", err)
	}
}

func TestPrimaryMatchesCreaterepo(t *testing.T) {
	if _, err := exec.LookPath("createrepo_c"); err != nil {
		t.Skip("createrepo_c not installed")
	}
	dir := t.TempDir()
	var built []*rpmrepo.Built
	for _, p := range packages() {
		b, err := rpmrepo.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		built = append(built, b)
		if err := os.MkdirAll(filepath.Join(dir, "Packages"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Packages", p.FileName()), b.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("createrepo_c", "--quiet", "--no-database", "--simple-md-filenames", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	theirs := readPrimary(t, filepath.Join(dir, "repodata/primary.xml.gz"))
	files, err := rpmrepo.Metadata(rpmrepo.Repository{Path: "x"}, built)
	if err != nil {
		t.Fatal(err)
	}
	md, err := rpmmd.ParseRepomd(files["repodata/repomd.xml"])
	if err != nil {
		t.Fatal(err)
	}
	mine := parsePrimary(t, files[md.Data["primary"].Location])
	opt := cmpopts.SortSlices(func(a, b rpm.Dep) bool { return a.Name < b.Name })
	if d := cmp.Diff(theirs, mine, opt); d != "" {
		t.Errorf("primary.xml (-createrepo_c +rpmrepo):\n%s", d)
	}
}

func readPrimary(t *testing.T, p string) []*rpmmd.Package {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return parsePrimary(t, data)
}

func parsePrimary(t *testing.T, gz []byte) []*rpmmd.Package {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	var out []*rpmmd.Package
	if err := rpmmd.ParsePrimary(io.Reader(zr), func(p *rpmmd.Package) error { out = append(out, p); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoadFilelists(t *testing.T) {
	ctx := context.Background()
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages(), Compression: "zst"}}})
	c := newClient(t)
	md, err := c.Load(ctx, rpmmd.Repo{ID: "baseos", BaseURLs: []string{srv.RepoURL(repoPath)}}, keyring(t, rpmrepo.RepoKey()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(md.Packages[1].Files); n != 0 {
		t.Fatalf("primary lists %d files of libfoo, want none (not under /etc or a bin directory)", n)
	}
	if err := c.LoadFilelists(ctx, md); err != nil {
		t.Fatal(err)
	}
	want := []rpmmd.File{{Path: "/usr/lib64/libfoo.so.1"}}
	if d := cmp.Diff(want, md.Packages[1].Files); d != "" {
		t.Errorf("libfoo files (-want +got):\n%s", d)
	}
	if n := len(md.Packages[0].Files); n != 5 {
		t.Errorf("hello has %d files, want 5", n)
	}
}

func TestPrimaryParsedOnce(t *testing.T) {
	ctx := context.Background()
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages()}}})
	c := newClient(t)
	repo := rpmmd.Repo{ID: "baseos", BaseURLs: []string{srv.RepoURL(repoPath)}}
	kr := keyring(t, rpmrepo.RepoKey())
	first, err := c.Load(ctx, repo, kr)
	if err != nil {
		t.Fatal(err)
	}
	primary := repoPath + "/" + first.Repomd.Data["primary"].Location
	hits := srv.Hits(primary)
	if err := c.LoadFilelists(ctx, first); err != nil {
		t.Fatal(err)
	}
	second, err := c.Load(ctx, repo, kr)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Hits(primary) != hits {
		t.Errorf("primary.xml fetched again for a repomd naming the same one")
	}
	if len(second.Packages[1].Files) != 0 || len(first.Packages[1].Files) != 1 {
		t.Errorf("filelists of one load leaked into another: %v / %v", first.Packages[1].Files, second.Packages[1].Files)
	}
	if d := cmp.Diff(first.Packages[0].Provides, second.Packages[0].Provides); d != "" {
		t.Errorf("memoized packages differ:\n%s", d)
	}
}

func TestLoadModules(t *testing.T) {
	ctx := context.Background()
	pkgs := []rpmrepo.Package{
		{Name: "nodejs", Epoch: "1", Version: "18.18.2", Release: "1.module+el8.9.0+1+abc"},
		{Name: "nodejs", Epoch: "1", Version: "20.9.0", Release: "1.module+el8.9.0+2+def"},
		{Name: "bash", Version: "4.4.20", Release: "4.el8"},
	}
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: pkgs, Modules: []rpmrepo.ModuleStream{
		{Name: "nodejs", Stream: "18", Version: 8090020231025140836, Context: "12345678", Packages: []string{"nodejs-1:18.18.2-1.module+el8.9.0+1+abc.x86_64"}, Default: true},
		{Name: "nodejs", Stream: "20", Packages: []string{"nodejs-1:20.9.0-1.module+el8.9.0+2+def.x86_64"}},
	}}}})
	md, err := newClient(t).Load(ctx, rpmmd.Repo{ID: "appstream", BaseURLs: []string{srv.RepoURL(repoPath)}}, keyring(t, rpmrepo.RepoKey()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range md.Packages {
		got = append(got, p.NEVRA()+" "+p.Module)
	}
	want := []string{"nodejs-1:18.18.2-1.module+el8.9.0+1+abc.x86_64 nodejs:18", "nodejs-1:20.9.0-1.module+el8.9.0+2+def.x86_64 nodejs:20", "bash-4.4.20-4.el8.x86_64 "}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("modules (-want +got):\n%s", d)
	}
	if md.Modules.Defaults["nodejs"] != "18" || len(md.Modules.Builds) != 2 || md.Modules.Builds[0].Context != "12345678" {
		t.Errorf("modules %+v", md.Modules)
	}
}

func TestParsedPrimaryKeptAcrossClients(t *testing.T) {
	ctx := context.Background()
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages()}}})
	dir := t.TempDir()
	repo := rpmmd.Repo{ID: "baseos", BaseURLs: []string{srv.RepoURL(repoPath)}}
	kr := keyring(t, rpmrepo.RepoKey())
	var loads []*rpmmd.Metadata
	for i := 0; i < 2; i++ {
		c, err := rpmmd.NewClient(rpmmd.Options{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		md, err := c.Load(ctx, repo, kr)
		if err != nil {
			t.Fatal(err)
		}
		loads = append(loads, md)
	}
	primary := repoPath + "/" + loads[0].Repomd.Data["primary"].Location
	if n := srv.Hits(primary); n != 1 {
		t.Errorf("primary.xml fetched %d times by two clients sharing a cache, want 1", n)
	}
	if d := cmp.Diff(loads[0].Packages, loads[1].Packages); d != "" {
		t.Errorf("packages from the parsed copy differ (-parsed +decoded):\n%s", d)
	}
}

func TestExamplePath(t *testing.T) {
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages()}}})
	repo := rpmmd.Repo{ID: "baseos", BaseURLs: []string{srv.RepoURL(repoPath)}, GPGCheck: true, RepoGPGCheck: true}
	if err := installFirst(context.Background(), newClient(t), repo, keyring(t, rpmrepo.RepoKey())); err != nil {
		t.Fatal(err)
	}
	if err := installFirst(context.Background(), newClient(t), repo, keyring(t, rpmrepo.StrangerKey())); !errors.Is(err, rpm.ErrUntrustedKey) {
		t.Fatalf("with a keyring that lacks the key: %v", err)
	}
}

func TestLoadThroughMirror(t *testing.T) {
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: "mirror/rocky/9/BaseOS/x86_64/os", Packages: packages()}}})
	repos := rpmmd.Mirror([]rpmmd.Repo{{ID: "baseos", Mirrorlist: "https://mirrors.rockylinux.org/mirrorlist?arch=x86_64&repo=BaseOS-9"}}, "",
		map[string]string{"https://mirrors.rockylinux.org/mirrorlist": srv.RepoURL("mirror/rocky/9/BaseOS/x86_64/os")})
	md, err := newClient(t).Load(context.Background(), repos[0], keyring(t, rpmrepo.RepoKey()))
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Packages) != 2 || !md.Signed {
		t.Errorf("%d packages, signed %v", len(md.Packages), md.Signed)
	}
}

// TestFetchRefusesHugeDeclaredSize: a primary (unsigned with
// repo_gpgcheck=0, so a mirror's to write) claiming a 1 TiB package is
// refused before anything is requested, so the mirror cannot fill the
// cache directory.
func TestFetchRefusesHugeDeclaredSize(t *testing.T) {
	ctx := context.Background()
	srv := rpmrepo.New(t, rpmrepo.Config{Repositories: []rpmrepo.Repository{{Path: repoPath, Packages: packages()}}})
	c := newClient(t)
	md, err := c.Load(ctx, rpmmd.Repo{ID: "baseos", BaseURLs: []string{srv.RepoURL(repoPath)}}, keyring(t, rpmrepo.RepoKey()))
	if err != nil {
		t.Fatal(err)
	}
	p := *md.Packages[0]
	p.Size = 1 << 40
	pp := rpmrepo.PackagePath(repoPath, packages()[0])
	if _, err := c.Fetch(ctx, md, &p); !errors.Is(err, rpmmd.ErrTooLarge) || !strings.Contains(err.Error(), p.Name) {
		t.Fatalf("1 TiB package: %v, want ErrTooLarge naming the package", err)
	}
	if n := srv.Hits(pp); n != 0 {
		t.Errorf("the package was requested %d times", n)
	}
}
