package aptrepo_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

func TestSyntheticStanzasParse(t *testing.T) {
	t.Parallel()
	const n = 600
	data := aptrepo.SyntheticStanzas(n, "arm64")
	if !bytes.Equal(data, aptrepo.SyntheticStanzas(n, "arm64")) {
		t.Fatal("SyntheticStanzas is not deterministic")
	}
	pkgs, err := apt.ParsePackages(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != n {
		t.Fatalf("parsed %d packages, want %d", len(pkgs), n)
	}
	var alternatives, constrained, provides, sourceVersions, all int
	for _, p := range pkgs {
		rels, err := deb.ParseRelations(p.Depends)
		if err != nil {
			t.Fatalf("%s: Depends %q: %v", p.Name, p.Depends, err)
		}
		for _, alts := range rels {
			if len(alts) > 1 {
				alternatives++
			}
			for _, r := range alts {
				if r.Version != "" {
					constrained++
				}
			}
		}
		if p.Provides != "" {
			provides++
		}
		if p.SourceVersion != p.Version {
			t.Errorf("%s: source version %q, want the binary's %q", p.Name, p.SourceVersion, p.Version)
		}
		if p.Source != p.Name {
			sourceVersions++
		}
		if p.Architecture == "all" {
			all++
		}
	}
	if alternatives == 0 || constrained == 0 || provides == 0 || sourceVersions == 0 || all == 0 {
		t.Errorf("not realistic: %d alternatives, %d versioned relations, %d Provides, %d with a Source, %d arch all",
			alternatives, constrained, provides, sourceVersions, all)
	}
	if avg := len(data) / n; avg < 600 {
		t.Errorf("%d bytes per paragraph, want Debian's ~800", avg)
	}
}
