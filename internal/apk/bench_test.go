package apk_test

import (
	"context"
	"testing"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
	"github.com/patchloop/patchloop/internal/testutil/heap"
)

// BenchmarkIndexLoad loads Alpine-sized indexes (main with 5,600
// synthetic records and community with 20,000, both signed, from a
// loopback server) and looks up one package and one provider:
//   - parse: an empty cache (download, signature check, parse, parsed
//     tables written);
//   - disk: a new client on a cache holding the indexes and their tables
//     (every `patchloop patch` process after the first);
//   - memory: the same client again (every task of a long-running
//     process after the first);
//   - before: OpenIndex of both cached indexes into memory, as every
//     load did before parsed tables were kept.
//
// It reports seconds per load and the peak heap in use.
func BenchmarkIndexLoad(b *testing.B) {
	srv := apkrepo.New(b, apkrepo.Config{Repositories: []apkrepo.Repository{
		{Path: "alpine/v3.22/main", Packages: []apkrepo.Package{hello}, Synthetic: 5600},
		{Path: "alpine/v3.22/community", Synthetic: 20000},
	}})
	srcs := []apk.Source{{URL: srv.RepoURL("alpine/v3.22/main")}, {URL: srv.RepoURL("alpine/v3.22/community")}}
	kr := apk.NewKeyring()
	if err := kr.Add("etc/apk/keys/"+apkrepo.IndexKey().Name, apkrepo.IndexKey().PublicPEM()); err != nil {
		b.Fatal(err)
	}
	newClient := func(b *testing.B, dir string) *apk.Client {
		c, err := apk.NewClient(apk.Options{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	primed := b.TempDir()
	shared := newClient(b, primed)
	load := func(b *testing.B, c *apk.Client) {
		ix, err := c.LoadIndex(context.Background(), srcs, "x86_64", kr)
		if err != nil {
			b.Fatal(err)
		}
		if got := ix.Candidates("hello"); len(got) != 1 {
			b.Fatalf("hello candidates = %d, want 1", len(got))
		}
		if got := ix.Providers("cmd:hello"); len(got) != 1 {
			b.Fatalf("cmd:hello providers = %d, want 1", len(got))
		}
	}
	load(b, shared)
	for _, mode := range []string{"parse", "disk", "memory", "before"} {
		b.Run(mode, func(b *testing.B) {
			var m heap.Meter
			for b.Loop() {
				b.StopTimer()
				c := shared
				switch mode {
				case "parse":
					c = newClient(b, b.TempDir())
				case "disk":
					c = newClient(b, primed)
				}
				m.Measure(b, func() {
					if mode == "before" {
						for _, p := range []string{"alpine/v3.22/main", "alpine/v3.22/community"} {
							pkgs, err := apk.OpenIndex(srv.File(p+"/x86_64/APKINDEX.tar.gz"), kr)
							if err != nil || len(pkgs) < 5600 {
								b.Fatalf("%s: %d packages, %v", p, len(pkgs), err)
							}
						}
					} else {
						load(b, c)
					}
				})
			}
			m.Report(b, "load")
		})
	}
}
