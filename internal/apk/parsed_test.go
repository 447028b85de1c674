package apk_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/testutil/apkrepo"
)

const indexPath = "alpine/v3.22/main/x86_64/APKINDEX.tar.gz"

// syntheticServer serves hello and 800 synthetic records.
func syntheticServer(t *testing.T) (*apkrepo.Server, []apk.Source) {
	t.Helper()
	return server(t, apkrepo.Config{Repositories: []apkrepo.Repository{{Path: "alpine/v3.22/main", Packages: []apkrepo.Package{hello}, Synthetic: 800}}})
}

// sameAsParsed checks that every package of the served index is what the
// index's lookups return, by name and by every name it provides.
func sameAsParsed(t *testing.T, srv *apkrepo.Server, ix *apk.Index) {
	t.Helper()
	pkgs, err := apk.OpenIndex(srv.File(indexPath), keyring(t, apkrepo.IndexKey()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 801 {
		t.Fatalf("%d packages in the index, want 801", len(pkgs))
	}
	contains := func(cands []apk.Candidate, p *apk.Package) bool {
		for _, c := range cands {
			if reflect.DeepEqual(c.Package, p) {
				return true
			}
		}
		return false
	}
	for _, p := range pkgs {
		if !contains(ix.Candidates(p.Name), p) {
			t.Fatalf("Candidates(%s) lacks %s", p.Name, p)
		}
		for _, pr := range p.Provides {
			if !contains(ix.Providers(pr.Name), p) {
				t.Fatalf("Providers(%s) lacks %s", pr.Name, p)
			}
		}
	}
	if got := ix.Candidates("no-such-package"); len(got) != 0 {
		t.Errorf("Candidates of an unknown name: %v", got)
	}
}

func TestIndexParsedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, srcs := syntheticServer(t)
	dir := t.TempDir()
	newClient := func() *apk.Client {
		c, err := apk.NewClient(apk.Options{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	kr := keyring(t, apkrepo.IndexKey())
	c := newClient()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.LoadIndex(ctx, srcs, "x86_64", kr); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ix, err := c.LoadIndex(ctx, srcs, "x86_64", kr)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.IndexStats(); s.Parsed != 1 || s.Loaded != 0 {
		t.Fatalf("five loads by one client: %+v, want parsed once", s)
	}
	sameAsParsed(t, srv, ix)

	// Another client (another process) reads the table from disk.
	c2 := newClient()
	ix, err = c2.LoadIndex(ctx, srcs, "x86_64", kr)
	if err != nil {
		t.Fatal(err)
	}
	if s := c2.IndexStats(); s.Parsed != 0 || s.Loaded != 1 {
		t.Fatalf("new client: %+v, want loaded from disk", s)
	}
	sameAsParsed(t, srv, ix)

	// The table is used only under a keyring that trusts the index.
	_, err = c2.LoadIndex(ctx, srcs, "x86_64", keyring(t, apkrepo.StrangerKey()))
	if !errors.Is(err, apk.ErrUntrustedKey) {
		t.Fatalf("load with a keyring lacking the index key: %v, want ErrUntrustedKey", err)
	}

	// A new signed index is a new table.
	srv.Update(t, func(cfg *apkrepo.Config) {
		h := hello
		h.Version = "1.3-r0"
		cfg.Repositories[0].Packages = append(cfg.Repositories[0].Packages, h)
	})
	ix, err = c2.LoadIndex(ctx, srcs, "x86_64", kr)
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.Candidates("hello"); len(got) != 2 || got[0].Version != "1.3-r0" {
		t.Fatalf("after the index changed, hello candidates %v", got)
	}
	if s := c2.IndexStats(); s.Parsed != 1 {
		t.Fatalf("after the index changed: %+v, want one parse", s)
	}
}

func TestParsedIndexTampered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, srcs := syntheticServer(t)
	dir := t.TempDir()
	kr := keyring(t, apkrepo.IndexKey())
	c, err := apk.NewClient(apk.Options{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadIndex(ctx, srcs, "x86_64", kr); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(srv.File(indexPath))
	table := filepath.Join(dir, "apk-parsed", hex.EncodeToString(sum[:]))
	data, err := os.ReadFile(table)
	if err != nil {
		t.Fatalf("no parsed table named by the index's SHA256: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func([]byte) []byte
	}{
		{"byte flipped", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-100] }},
		{"empty", func([]byte) []byte { return nil }},
	} {
		if err := os.WriteFile(table, tc.change(append([]byte(nil), data...)), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := apk.NewClient(apk.Options{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		ix, err := c.LoadIndex(ctx, srcs, "x86_64", kr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s := c.IndexStats(); s.Rejected != 1 || s.Parsed != 1 {
			t.Fatalf("%s: %+v, want the table rejected and rebuilt", tc.name, s)
		}
		sameAsParsed(t, srv, ix)
	}
}
