package patch

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestTargetsGroupsBySource(t *testing.T) {
	installed := []Installed{
		{Key: "libssl3", Name: "libssl3", Source: "openssl"},
		{Key: "openssl", Name: "openssl", Source: "openssl"},
		{Key: "zlib", Name: "zlib", Source: "zlib"},
	}
	findings := []Finding{
		{VulnerabilityID: "CVE-2", PkgName: "libssl3", FixedVersion: "3.0.2"},
		{VulnerabilityID: "CVE-1", PkgName: "libssl3", FixedVersion: "3.0.9"},
		{VulnerabilityID: "CVE-1", PkgName: "libssl3", FixedVersion: "3.0.1"},
		{VulnerabilityID: "CVE-9", PkgName: "absent", FixedVersion: "1"},
	}
	got := Targets(slog.New(slog.NewTextHandler(io.Discard, nil)), "test", findings, installed, strings.Compare)
	want := []Target{
		{Key: "libssl3", Name: "libssl3", Source: "openssl", Fixed: "3.0.9", Vulns: []string{"CVE-1", "CVE-2"}, Named: true},
		{Key: "openssl", Name: "openssl", Source: "openssl", Fixed: "3.0.9", Vulns: []string{"CVE-1", "CVE-2"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Targets = %+v\nwant %+v", got, want)
	}
	if r := got[0].Reason("source package"); r != "fixes CVE-1, CVE-2" {
		t.Errorf("named reason = %q", r)
	}
	if r := got[1].Reason("origin"); r != "same origin (openssl) as vulnerable packages: CVE-1, CVE-2" {
		t.Errorf("sibling reason = %q", r)
	}
	u := got[0].Unfixed("no fix")
	if len(u) != 2 || u[1] != (Unfixed{VulnerabilityID: "CVE-2", PkgName: "libssl3", FixedVersion: "3.0.9", Reason: "no fix"}) {
		t.Errorf("Unfixed = %+v", u)
	}
}

func TestFixedIDsNeedsEveryFinding(t *testing.T) {
	findings := []Finding{
		{VulnerabilityID: "CVE-3", PkgName: "a"},
		{VulnerabilityID: "CVE-1", PkgName: "a"},
		{VulnerabilityID: "CVE-1", PkgName: "b"}, // not fixed: CVE-1 stays
		{VulnerabilityID: "CVE-2", PkgName: "a"},
		{VulnerabilityID: "CVE-2", PkgName: "gone"}, // does not count
		{VulnerabilityID: "CVE-4", PkgName: "gone"},
	}
	got := FixedIDs(findings, func(f Finding) (bool, bool) {
		return f.PkgName == "a", f.PkgName != "gone"
	})
	if want := []string{"CVE-2", "CVE-3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("FixedIDs = %v, want %v", got, want)
	}
	if got := FixedIDs(nil, nil); got != nil {
		t.Fatalf("FixedIDs(nil) = %v, want nil", got)
	}
}

func TestRequestHelpers(t *testing.T) {
	req := Request{Findings: []Finding{{VulnerabilityID: "CVE-1", FixedVersion: "2"}, {VulnerabilityID: "CVE-2"}, {VulnerabilityID: "CVE-3", FixedVersion: "1"}}}
	got := req.Fixable()
	if len(got) != 2 || got[0].VulnerabilityID != "CVE-1" || got[1].VulnerabilityID != "CVE-3" || len(req.Findings) != 3 {
		t.Fatalf("Fixable = %+v (request now %+v)", got, req.Findings)
	}
	if d := (Request{WorkDir: "/w"}).TempDir(); d != "/w" {
		t.Errorf("TempDir = %q, want /w", d)
	}
	if d := (Request{}).TempDir(); d != os.TempDir() {
		t.Errorf("TempDir = %q, want %q", d, os.TempDir())
	}
	b, err := json.Marshal(NewOutcome())
	if err != nil || !strings.Contains(string(b), `"updates":[]`) || !strings.Contains(string(b), `"fixed":[]`) {
		t.Errorf("NewOutcome encodes as %s, %v", b, err)
	}
}
