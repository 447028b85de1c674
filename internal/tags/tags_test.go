package tags

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		tag      string
		kind     Kind
		original string
		patch    int
	}{
		{"jammy", Original, "jammy", 0},
		{"jammy-1", IncrementalPatch, "jammy", 1},
		{"jammy-999", IncrementalPatch, "jammy", 999},
		{"jammy-1000", Original, "jammy-1000", 0},
		{"jammy-20240530", Original, "jammy-20240530", 0},
		{"jammy-20240530-2", IncrementalPatch, "jammy-20240530", 2},
		{"jammy-patched", FloatingPatch, "jammy", 0},
		{"jammy-20240530-patched", FloatingPatch, "jammy-20240530", 0},
		{"jammy-0", Original, "jammy-0", 0},
		{"jammy-01", Original, "jammy-01", 0},
		{"3.11-slim-bookworm", Original, "3.11-slim-bookworm", 0},
		{"3.11", Original, "3.11", 0},
		{"-1", Original, "-1", 0},
		{"1", Original, "1", 0},
		{"a-1b", Original, "a-1b", 0},
		{"patched", Original, "patched", 0},
		{"x-patched-1", IncrementalPatch, "x-patched", 1},
	}
	for _, c := range cases {
		got := Classify(c.tag)
		want := Tag{Name: c.tag, Kind: c.kind, Original: c.original, Patch: c.patch}
		if got != want {
			t.Errorf("Classify(%q) = %+v, want %+v", c.tag, got, want)
		}
		if IsPatchTag(c.tag) != (c.kind != Original) {
			t.Errorf("IsPatchTag(%q) = %v", c.tag, IsPatchTag(c.tag))
		}
	}
}

// TestReferenceTable is the sample table of the reference's "Tags" section.
func TestReferenceTable(t *testing.T) {
	cases := []struct {
		repo string
		tags []string
		want map[string]string // original → expected incremental patch tag
	}{
		{"python", []string{"3.11", "3.11-slim-bookworm"},
			map[string]string{"3.11": "3.11-1", "3.11-slim-bookworm": "3.11-slim-bookworm-1"}},
		{"myrep/ubuntu", []string{"jammy", "jammy-1", "jammy-2", "jammy-patched", "jammy-20240530",
			"jammy-20240530-1", "jammy-20240530-2", "jammy-20240530-patched"},
			map[string]string{"jammy": "jammy-3", "jammy-20240530": "jammy-20240530-3"}},
	}
	for _, c := range cases {
		groups := Group(c.tags)
		got := map[string]string{}
		for orig, l := range groups {
			next, err := l.Next(Incremental)
			if err != nil {
				t.Fatalf("%s: Next(%s): %v", c.repo, orig, err)
			}
			got[orig] = next
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: next patch tags = %v, want %v", c.repo, got, c.want)
		}
	}
}

func TestLatestByConvention(t *testing.T) {
	g := Group([]string{"jammy", "jammy-1", "jammy-7", "jammy-patched", "focal", "focal-patched", "noble", "noble-2"})
	cases := []struct {
		orig string
		conv Convention
		want string
		next string
	}{
		{"jammy", Incremental, "jammy-7", "jammy-8"},
		{"jammy", Floating, "jammy-patched", "jammy-patched"},
		{"focal", Incremental, "", "focal-1"},
		{"focal", Floating, "focal-patched", "focal-patched"},
		{"noble", Floating, "", "noble-patched"},
		{"noble", Incremental, "noble-2", "noble-3"},
	}
	for _, c := range cases {
		l := g[c.orig]
		if got := l.Latest(c.conv); got != c.want {
			t.Errorf("%s %s: Latest = %q, want %q", c.orig, c.conv, got, c.want)
		}
		if got, _ := l.Next(c.conv); got != c.next {
			t.Errorf("%s %s: Next = %q, want %q", c.orig, c.conv, got, c.next)
		}
	}
}

func TestNextAfter999(t *testing.T) {
	all := []string{"v1"}
	for i := 1; i <= 999; i++ {
		all = append(all, fmt.Sprintf("v1-%d", i))
	}
	l := Group(all)["v1"]
	if got := l.Latest(Incremental); got != "v1-999" {
		t.Fatalf("Latest = %q", got)
	}
	_, err := l.Next(Incremental)
	if !errors.Is(err, ErrTooManyPatches) {
		t.Fatalf("Next after 999 = %v, want ErrTooManyPatches", err)
	}
	if got, err := l.Next(Floating); err != nil || got != "v1-patched" {
		t.Fatalf("floating Next = %q, %v", got, err)
	}
}

func TestGapsUseHighest(t *testing.T) {
	l := Group([]string{"a", "a-3", "a-1"})["a"]
	if got, _ := l.Next(Incremental); got != "a-4" {
		t.Fatalf("Next = %q, want a-4", got)
	}
}

func TestParseConvention(t *testing.T) {
	for in, want := range map[string]Convention{"": Incremental, "incremental": Incremental, "floating": Floating} {
		if got, err := ParseConvention(in); err != nil || got != want {
			t.Errorf("ParseConvention(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseConvention("Floating"); err == nil {
		t.Error("ParseConvention(Floating) succeeded, want error")
	}
}

func TestGroupPresentAndDuplicates(t *testing.T) {
	g := Group([]string{"a-2", "a", "a-1", "a-2", "b-1", "b-patched", "a-1"})
	got := map[string]Lineage{}
	for k, l := range g {
		got[k] = *l
	}
	want := map[string]Lineage{
		"a": {Original: "a", Patches: []int{1, 2}, Present: true},
		"b": {Original: "b", Patches: []int{1}, Floating: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Group = %+v, want %+v", got, want)
	}
}

// BenchmarkGroup groups 200,000 tags: 200 originals with 999 patches each,
// patches listed highest first (the worst order for an insertion sort).
func BenchmarkGroup(b *testing.B) {
	var all []string
	for o := range 200 {
		all = append(all, fmt.Sprintf("v%d", o))
		for n := MaxPatches; n >= 1; n-- {
			all = append(all, fmt.Sprintf("v%d-%d", o, n))
		}
	}
	for b.Loop() {
		if l := Group(all)["v7"]; len(l.Patches) != MaxPatches {
			b.Fatalf("v7 has %d patches", len(l.Patches))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(all)), "ns/tag")
}

// TestPatchOfPatchNeverAnOriginal: tags ending in -1 … -999 or -patched are
// patch tags and never originals, even when a tag built on them exists
// (g-1-1, e-patched-1): Group makes no present lineage of them.
func TestPatchOfPatchNeverAnOriginal(t *testing.T) {
	g := Group([]string{"g", "g-1", "g-1-1", "e", "e-patched", "e-patched-1", "h-1-1"})
	var present []string
	for orig, l := range g {
		if l.Present {
			present = append(present, orig)
		}
	}
	slices.Sort(present)
	if want := []string{"e", "g"}; !slices.Equal(present, want) {
		t.Fatalf("present originals = %q, want %q", present, want)
	}
	if got, _ := g["g"].Next(Incremental); got != "g-2" {
		t.Errorf("next of g = %q, want g-2", got)
	}
	if got := g["e"].Latest(Floating); got != "e-patched" {
		t.Errorf("latest floating of e = %q, want e-patched", got)
	}
}

func TestIsDigestTag(t *testing.T) {
	hex := strings.Repeat("ab12", 16)
	for tag, want := range map[string]bool{
		"sha256-" + hex:                  true,
		"sha256-" + hex + ".sig":         true,
		"sha256-" + hex + ".att":         true,
		"sha256-" + hex + ".sbom":        true,
		"sha256-" + hex + ".other":       false,
		"sha256-" + hex[:63]:             false,
		"sha256-" + strings.ToUpper(hex): false,
		"1.0":                            false,
		"sha256-1":                       false,
	} {
		if got := IsDigestTag(tag); got != want {
			t.Errorf("IsDigestTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
