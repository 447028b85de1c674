package apk_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
)

var hello = apkrepo.Package{
	Name: "hello", Version: "1.2-r1", Origin: "hello-src",
	Depends:  []string{"so:libc.musl-x86_64.so.1", "busybox>=1.36"},
	Provides: []string{"cmd:hello=1.2-r1"},
	Files: []apkrepo.File{
		{Path: "usr/bin/hello", Body: "#!/bin/sh\necho hello\n", Mode: 0o755},
		{Path: "usr/bin/hi", Type: '2', Linkname: "hello"},
		{Path: "etc/hello.conf", Body: "greeting=hi\n"},
	},
	Scripts: map[string]string{".post-upgrade": "#!/bin/sh\nexit 0\n"},
}

func server(t *testing.T, cfg apkrepo.Config) (*apkrepo.Server, []apk.Source) {
	t.Helper()
	if cfg.Repositories == nil {
		cfg.Repositories = []apkrepo.Repository{{Path: "alpine/v3.22/main", Packages: []apkrepo.Package{hello}}}
	}
	s := apkrepo.New(t, cfg)
	return s, []apk.Source{{URL: s.RepoURL("alpine/v3.22/main")}}
}

func keyring(t *testing.T, keys ...*apkrepo.Key) *apk.Keyring {
	t.Helper()
	kr := apk.NewKeyring()
	for _, k := range keys {
		if err := kr.Add("etc/apk/keys/"+k.Name, k.PublicPEM()); err != nil {
			t.Fatal(err)
		}
	}
	return kr
}

func client(t *testing.T) *apk.Client {
	t.Helper()
	c, err := apk.NewClient(apk.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadIndexAndFetch(t *testing.T) {
	t.Parallel()
	for _, sha256 := range []bool{false, true} {
		srv, srcs := server(t, apkrepo.Config{SHA256: sha256})
		c := client(t)
		ctx := context.Background()
		ix, err := c.LoadIndex(ctx, srcs, "x86_64", keyring(t, apkrepo.IndexKey()))
		if err != nil {
			t.Fatal(err)
		}
		cands := ix.Candidates("hello")
		if len(cands) != 1 {
			t.Fatalf("candidates: %d", len(cands))
		}
		cand := cands[0]
		built := srv.Built("alpine/v3.22/main/x86_64/hello-1.2-r1.apk")
		if cand.Version != "1.2-r1" || cand.Origin != "hello-src" || string(cand.Checksum) != built.Checksum {
			t.Fatalf("candidate %+v", cand.Package)
		}
		if got := ix.Providers("cmd:hello"); len(got) != 1 || got[0].Name != "hello" {
			t.Fatalf("providers of cmd:hello: %v", got)
		}
		// The package is signed by a build key the keyring lacks: the
		// index vouches for it.
		f, cl, err := c.Fetch(ctx, cand)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if f.Info.Name != "hello" || len(f.Scripts) != 1 || f.Scripts[0].Name != ".post-upgrade" {
			t.Fatalf("file: %+v %+v", f.Info, f.Scripts)
		}
		d, err := f.Data()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for {
			h, err := d.Next()
			if err != nil {
				break
			}
			names = append(names, h.Name)
		}
		if want := []string{"etc", "etc/hello.conf", "usr", "usr/bin", "usr/bin/hello", "usr/bin/hi"}; !slices.Equal(names, want) {
			t.Errorf("data entries %q, want %q", names, want)
		}
		// A second load revalidates: 304, no new transfer.
		if _, err := c.LoadIndex(ctx, srcs, "x86_64", keyring(t, apkrepo.IndexKey())); err != nil {
			t.Fatal(err)
		}
		p := "alpine/v3.22/main/x86_64/APKINDEX.tar.gz"
		if srv.Requests(p) != 2 || srv.Fetches(p) != 1 {
			t.Errorf("index requests %d fetches %d, want 2 and 1", srv.Requests(p), srv.Fetches(p))
		}
		// A second fetch of the package comes from the cache.
		_, cl2, err := c.Fetch(ctx, cand)
		if err != nil {
			t.Fatal(err)
		}
		cl2.Close()
		if n := srv.Requests("alpine/v3.22/main/x86_64/hello-1.2-r1.apk"); n != 1 {
			t.Errorf("package requested %d times, want 1", n)
		}
	}
}

func TestIndexRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name   string
		cfg    apkrepo.Config
		tamper func([]byte) []byte
		want   error
	}{
		{"untrusted key", apkrepo.Config{IndexKey: apkrepo.StrangerKey()}, nil, apk.ErrUntrustedKey},
		{"unsigned", apkrepo.Config{Unsigned: true}, nil, apk.ErrUnsigned},
		{"modified", apkrepo.Config{}, nil, apk.ErrBadSignature},
		{"corrupt", apkrepo.Config{}, func(b []byte) []byte {
			b[len(b)-20] ^= 0xff // in the index stream's compressed data
			return b
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, srcs := server(t, tc.cfg)
			ip := "alpine/v3.22/main/x86_64/APKINDEX.tar.gz"
			switch {
			case tc.tamper != nil:
				srv.Tamper(t, ip, tc.tamper)
			case tc.name == "modified":
				evil := strings.Replace(string(apkrepo.Build(t, hello).IndexRecord()), "V:1.2-r1", "V:9.9-r0", 1)
				srv.Tamper(t, ip, func(b []byte) []byte { return apkrepo.SwapIndexText(t, b, evil+"\n") })
			}
			_, err := client(t).LoadIndex(ctx, srcs, "x86_64", keyring(t, apkrepo.IndexKey()))
			if err == nil {
				t.Fatal("index accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "APKINDEX.tar.gz") {
				t.Errorf("error does not name the index: %v", err)
			}
		})
	}
}

func TestTamperedPackage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, member := range []string{"control", "data"} {
		t.Run(member, func(t *testing.T) {
			t.Parallel()
			srv, srcs := server(t, apkrepo.Config{})
			c := client(t)
			ix, err := c.LoadIndex(ctx, srcs, "x86_64", keyring(t, apkrepo.IndexKey()))
			if err != nil {
				t.Fatal(err)
			}
			p := "alpine/v3.22/main/x86_64/hello-1.2-r1.apk"
			// Replace the member with one of another build of the same
			// package, so the file stays well-formed.
			other := hello
			other.Files = append([]apkrepo.File{{Path: "usr/bin/evil", Body: "x"}}, hello.Files...)
			ob := apkrepo.Build(t, other)
			b := srv.Built(p)
			tampered := slices.Concat(b.Signature, ob.Control, b.DataStream)
			if member == "data" {
				tampered = slices.Concat(b.Signature, b.Control, ob.DataStream)
			}
			srv.Tamper(t, p, func([]byte) []byte { return tampered })
			_, err = apk.OpenFile(bytes.NewReader(tampered), int64(len(tampered)), apk.Checksum(b.Checksum))
			if !errors.Is(err, apk.ErrChecksum) || !strings.Contains(err.Error(), map[string]string{"data": "datahash", "control": "control checksum"}[member]) {
				t.Fatalf("OpenFile: %v, want a %s checksum mismatch", err, member)
			}
			_, _, err = c.Fetch(ctx, ix.Candidates("hello")[0])
			if !errors.Is(err, apk.ErrChecksum) {
				t.Fatalf("error %v, want ErrChecksum", err)
			}
		})
	}
}
