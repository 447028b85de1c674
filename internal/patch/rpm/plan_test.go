package rpm

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// pk builds a package "name-version-release.arch" with optional
// dependencies written as "R:dep", "P:dep", "C:dep", "O:dep", "F:/path",
// "S:source.src.rpm", "M:module:stream:1:c".
func pk(nevra string, rels ...string) *Package {
	s := strings.TrimSuffix(nevra, "")
	dot := strings.LastIndexByte(s, '.')
	arch := s[dot+1:]
	s = s[:dot]
	rel := strings.LastIndexByte(s, '-')
	ver := strings.LastIndexByte(s[:rel], '-')
	p := &Package{Name: s[:ver], Arch: arch, EVR: ParseEVR(s[ver+1:])}
	p.SourceRPM = p.Name + "-" + p.EVR.Version + "-" + p.EVR.Release + ".src.rpm"
	for _, r := range rels {
		kind, v, _ := strings.Cut(r, ":")
		d := parseDepString(v)
		switch kind {
		case "R":
			p.Requires = append(p.Requires, d)
		case "P":
			p.Provides = append(p.Provides, d)
		case "C":
			p.Conflicts = append(p.Conflicts, d)
		case "O":
			p.Obsoletes = append(p.Obsoletes, d)
		case "F":
			p.Files = append(p.Files, FileInfo{Path: v, Mode: 0o100644})
		case "S":
			p.SourceRPM = v
		case "M":
			p.ModularityLabel = v
		}
	}
	return p
}

// parseDepString reads "name [op evr]" or a rich dependency.
func parseDepString(s string) Dep {
	if strings.HasPrefix(s, "(") {
		return Dep{Name: s}
	}
	e, err := parseRich("(" + s + ")")
	if err != nil || e.op != opLeaf {
		panic(s)
	}
	return e.leaf
}

func cand(p *Package) *Candidate { return &Candidate{Package: p, Repo: "baseos"} }

func runPlan(t *testing.T, installed []*Package, repo []*Package, findings []patch.Finding, opts IndexOptions) (*plan, error) {
	t.Helper()
	var cs []*Candidate
	for _, p := range repo {
		cs = append(cs, cand(p))
	}
	pl := newPlanner(installed, NewIndex(cs, opts), quietLog)
	pl.choose(pl.targets(findings))
	if err := pl.close(); err != nil {
		return nil, err
	}
	return pl.result(findings), nil
}

func changed(p *plan) []string {
	var out []string
	for _, n := range p.changes {
		out = append(out, n.cand.NEVRA())
	}
	for _, n := range p.removals {
		out = append(out, "-"+n.inst.NEVRA())
	}
	return out
}

func finding(name, fixed string) []patch.Finding {
	return []patch.Finding{{VulnerabilityID: "CVE-2026-1", PkgName: name, FixedVersion: fixed}}
}

func TestPlanSourceAndMultilib(t *testing.T) {
	src := "S:openssl-3.0.7-24.el9.src.rpm"
	inst := []*Package{
		pk("openssl-libs-1:3.0.7-24.el9.x86_64", src),
		pk("openssl-libs-1:3.0.7-24.el9.i686", src),
		pk("openssl-1:3.0.7-24.el9.x86_64", src, "R:openssl-libs(x86-64) = 1:3.0.7-24.el9"),
		pk("bash-5.1-1.el9.x86_64"),
	}
	nsrc := "S:openssl-3.0.7-27.el9.src.rpm"
	repo := []*Package{
		pk("openssl-libs-1:3.0.7-27.el9.x86_64", nsrc),
		pk("openssl-libs-1:3.0.7-27.el9.i686", nsrc),
		pk("openssl-1:3.0.7-27.el9.x86_64", nsrc, "R:openssl-libs(x86-64) = 1:3.0.7-27.el9"),
		pk("openssl-libs-1:3.0.7-26.el9.x86_64", nsrc),
	}
	got, err := runPlan(t, inst, repo, finding("openssl-libs", "1:3.0.7-27.el9"), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"openssl-1:3.0.7-27.el9.x86_64", "openssl-libs-1:3.0.7-27.el9.i686", "openssl-libs-1:3.0.7-27.el9.x86_64"}
	if !slices.Equal(changed(got), want) {
		t.Fatalf("changes %v, want %v", changed(got), want)
	}
	if !slices.Equal(got.fixed, []string{"CVE-2026-1"}) {
		t.Fatalf("fixed %v", got.fixed)
	}
}

func TestPlanDependencies(t *testing.T) {
	inst := []*Package{
		pk("curl-7.76-1.el9.x86_64", "R:libcurl = 7.76-1.el9"),
		pk("libcurl-7.76-1.el9.x86_64", "S:curl-7.76-1.el9.src.rpm", "R:libnghttp2.so.14()(64bit)"),
		pk("libnghttp2-1.43-1.el9.x86_64", "P:libnghttp2.so.14()(64bit)"),
		pk("sh-1-1.x86_64", "F:/bin/sh"),
	}
	repo := []*Package{
		pk("curl-7.76-2.el9.x86_64", "R:libcurl = 7.76-2.el9", "R:(libpsl or libpsl-compat)", "R:/bin/sh"),
		pk("libcurl-7.76-2.el9.x86_64", "S:curl-7.76-2.el9.src.rpm", "R:libnghttp2.so.14()(64bit)", "R:libnghttp2 >= 1.50", "R:(glibc-langpack if langpacks)"),
		pk("libnghttp2-1.51-1.el9.x86_64", "P:libnghttp2.so.14()(64bit)"),
		pk("libpsl-0.21-1.el9.x86_64"),
		pk("libpsl-0.21-1.el9.i686"),
		pk("glibc-langpack-2.34-1.el9.x86_64"),
	}
	got, err := runPlan(t, inst, repo, finding("curl", "7.76-2.el9"), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"curl-7.76-2.el9.x86_64", "libcurl-7.76-2.el9.x86_64", "libnghttp2-1.51-1.el9.x86_64", "libpsl-0.21-1.el9.x86_64"}
	if !slices.Equal(changed(got), want) {
		t.Fatalf("changes %v, want %v", changed(got), want)
	}
	for _, n := range got.changes {
		if n.cand.Name == "libpsl" && !strings.HasPrefix(n.reason, "new dependency of curl") {
			t.Errorf("libpsl reason %q", n.reason)
		}
	}
}

func TestPlanUnmetAndConflict(t *testing.T) {
	inst := []*Package{pk("foo-1-1.x86_64"), pk("bar-1-1.x86_64", "C:foo >= 2")}
	_, err := runPlan(t, inst, []*Package{pk("foo-2-1.x86_64", "R:libmissing")}, finding("foo", "2-1"), IndexOptions{})
	if !errors.Is(err, patch.ErrUnmetDependency) || !patch.IsPermanent(err) || !strings.Contains(err.Error(), "libmissing") {
		t.Fatalf("err %v, want unmet libmissing (permanent)", err)
	}
	_, err = runPlan(t, inst, []*Package{pk("foo-2-1.x86_64")}, finding("foo", "2-1"), IndexOptions{})
	if !errors.Is(err, patch.ErrConflict) || !strings.Contains(err.Error(), "bar-1-1.x86_64") {
		t.Fatalf("err %v, want conflict with bar", err)
	}
	// A newer bar without the conflict resolves it.
	got, err := runPlan(t, inst, []*Package{pk("foo-2-1.x86_64"), pk("bar-2-1.x86_64")}, finding("foo", "2-1"), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bar-2-1.x86_64", "foo-2-1.x86_64"}; !slices.Equal(changed(got), want) {
		t.Fatalf("changes %v, want %v", changed(got), want)
	}
}

func TestPlanObsoletes(t *testing.T) {
	inst := []*Package{pk("foo-1-1.x86_64", "R:foo-data"), pk("foo-data-1-1.noarch")}
	repo := []*Package{pk("foo-2-1.x86_64", "R:foo-common"), pk("foo-common-2-1.noarch", "O:foo-data < 2", "P:foo-data = 2-1")}
	got, err := runPlan(t, inst, repo, finding("foo", "2-1"), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"foo-2-1.x86_64", "foo-common-2-1.noarch", "-foo-data-1-1.noarch"}; !slices.Equal(changed(got), want) {
		t.Fatalf("changes %v, want %v", changed(got), want)
	}
}

func TestPlanExcludeModulesAndNoFix(t *testing.T) {
	inst := []*Package{
		pk("nodejs-1:18.1-1.module+el8.9+1.x86_64", "M:nodejs:18:8090:abc"),
		pk("foo-1-1.x86_64"),
	}
	nodeRepo := []*Package{
		pk("nodejs-1:20.1-1.module+el8.9+2.x86_64", "M:nodejs:20:8090:abc"),
		pk("nodejs-1:18.2-1.module+el8.9+2.x86_64", "M:nodejs:18:8090:abc"),
		pk("nodejs-1:22.0-1.el8.x86_64"),
	}
	fs := append(finding("nodejs", "1:18.2-1.module+el8.9+2"), patch.Finding{VulnerabilityID: "CVE-2026-2", PkgName: "foo", FixedVersion: "2-1"})
	got, err := runPlan(t, inst, append(nodeRepo, pk("foo-2-1.x86_64")), fs, IndexOptions{Exclude: []string{"fo?"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"nodejs-1:18.2-1.module+el8.9+2.x86_64"}; !slices.Equal(changed(got), want) {
		t.Fatalf("changes %v, want %v", changed(got), want)
	}
	if len(got.unfixed) != 1 || got.unfixed[0].PkgName != "foo" || !strings.HasPrefix(got.unfixed[0].Reason, patch.ReasonNoFix) {
		t.Fatalf("unfixed %+v", got.unfixed)
	}
}

func TestDepOverlaps(t *testing.T) {
	for _, c := range []struct {
		req, prov string
		want      bool
	}{
		{"foo >= 1.2", "foo = 1.3-1", true},
		{"foo >= 1.2", "foo = 1.1-9", false},
		{"foo = 1.2", "foo = 1.2-5", true},
		{"foo < 2", "foo = 2.0-1", false},
		{"foo > 1:1", "foo = 2-1", false},
		{"foo", "foo = 2-1", true},
		{"foo >= 1.0~rc1", "foo = 1.0~beta-1", false},
		{"foo >= 1.0", "foo = 1.0^git1-1", true},
	} {
		r, p := parseDepString(c.req), parseDepString(c.prov)
		if got := overlaps(r, p); got != c.want {
			t.Errorf("%q provided by %q: %v, want %v", c.req, c.prov, got, c.want)
		}
	}
}

func TestRich(t *testing.T) {
	have := map[string]bool{"a": true, "c": true}
	met := func(d Dep) bool { return have[d.Name] }
	for s, want := range map[string]bool{
		"(a or b)":               true,
		"(b or d)":               false,
		"(a and c)":              true,
		"(b if c)":               false,
		"(b if d)":               true,
		"(b if d else a)":        true,
		"(a and (b or c))":       true,
		"(b unless a)":           true,
		"(a without b)":          true,
		"(foo >= 1.0 or a)":      true,
		"((b or d) if a else c)": false,
	} {
		e, err := parseRich(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := e.eval(met); got != want {
			t.Errorf("%s = %v, want %v", s, got, want)
		}
	}
	for _, bad := range []string{"(a or", "(a or b and c)", "(a >= )", "a"} {
		if _, err := parseRich(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestSourceName(t *testing.T) {
	for src, want := range map[string]string{"openssl-3.0.7-27.el9.src.rpm": "openssl", "python3.11-3.11.5-1.el9.src.rpm": "python3.11", "": "self", "x.rpm": "self"} {
		if got := (&Package{Name: "self", SourceRPM: src}).SourceName(); got != want {
			t.Errorf("%q: %q, want %q", src, got, want)
		}
	}
}
