package apt_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

func TestParseSourcesList(t *testing.T) {
	const in = `# Debian sources
deb http://deb.debian.org/debian bookworm main contrib
deb-src http://deb.debian.org/debian bookworm main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main # trailing comment

	deb	[ check-valid-until=no trusted=yes ]   http://archive.debian.org/debian  buster/updates main
`
	got, err := apt.ParseSourcesList(strings.NewReader(in), "sources.list")
	if err != nil {
		t.Fatal(err)
	}
	want := []apt.Source{
		{URI: "http://deb.debian.org/debian", Suite: "bookworm", Components: []string{"main", "contrib"}, Origin: "sources.list:2"},
		{
			URI: "http://deb.debian.org/debian-security", Suite: "bookworm-security", Components: []string{"main"},
			Architectures: []string{"amd64", "arm64"}, SignedBy: []string{"/usr/share/keyrings/debian-archive-keyring.gpg"},
			Origin: "sources.list:4",
		},
		{URI: "http://archive.debian.org/debian", Suite: "buster/updates", Components: []string{"main"}, IgnoreValidUntil: true, Origin: "sources.list:6"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseSourcesListErrors(t *testing.T) {
	for _, in := range []string{
		"rpm http://x/ y main",
		"deb http://x/",
		"deb http://x/ bookworm",
		"deb http://x/ flat/ main",
		"deb [arch=amd64 http://x/ bookworm main",
		"deb [arch] http://x/ bookworm main",
	} {
		_, err := apt.ParseSourcesList(strings.NewReader(in), "list")
		if err == nil || !strings.Contains(err.Error(), "list:1") {
			t.Errorf("%q: error %v does not name list:1", in, err)
		}
	}
	got, err := apt.ParseSourcesList(strings.NewReader("deb http://x/ ./\n"), "list")
	if err != nil || len(got) != 1 || got[0].Suite != "./" {
		t.Errorf("flat repository entry: %+v %v", got, err)
	}
}

func TestParseDeb822Sources(t *testing.T) {
	key := aptrepo.NewKey(t, aptrepo.KeyOptions{})
	var inline strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(key.ArmoredPublicKey(t)), "\n"), "\n") {
		if line == "" {
			line = "."
		}
		inline.WriteString(" " + line + "\n")
	}
	in := `Types: deb deb-src
URIs: http://deb.debian.org/debian http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

# disabled
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://example.org/ubuntu
Suites: noble-security
Components: main universe
Architectures: arm64
Check-Valid-Until: no
Signed-By:
` + inline.String()
	got, err := apt.ParseDeb822Sources(strings.NewReader(in), "debian.sources")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("got %d sources, want 5: %+v", len(got), got)
	}
	var pairs []string
	for _, s := range got[:4] {
		pairs = append(pairs, s.URI+" "+s.Suite)
		if !reflect.DeepEqual(s.SignedBy, []string{"/usr/share/keyrings/debian-archive-keyring.gpg"}) || s.Keyring != nil || s.Origin != "debian.sources: stanza 1" {
			t.Errorf("source %+v", s)
		}
	}
	wantPairs := []string{
		"http://deb.debian.org/debian bookworm", "http://deb.debian.org/debian bookworm-updates",
		"http://mirror.example/debian bookworm", "http://mirror.example/debian bookworm-updates",
	}
	if !reflect.DeepEqual(pairs, wantPairs) {
		t.Errorf("pairs = %q", pairs)
	}
	last := got[4]
	if last.Keyring == nil || last.SignedBy != nil || !last.IgnoreValidUntil ||
		!reflect.DeepEqual(last.Architectures, []string{"arm64"}) || !reflect.DeepEqual(last.Components, []string{"main", "universe"}) {
		t.Fatalf("inline-key source = %+v", last)
	}
	fromFile, err := apt.ParseKeyring(key.PublicKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(last.Keyring.Fingerprints(), fromFile.Fingerprints()) {
		t.Errorf("inline key %v, want %v", last.Keyring.Fingerprints(), fromFile.Fingerprints())
	}
}

func TestParseDeb822SourcesErrors(t *testing.T) {
	for _, in := range []string{
		"Types: deb\nSuites: bookworm\nComponents: main\n",
		"Types: deb\nURIs: http://x/\nSuites: bookworm\n",
		"Types: deb\nURIs: http://x/\nSuites: bookworm\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n garbage\n -----END PGP PUBLIC KEY BLOCK-----\n",
		"Types deb\n",
	} {
		if _, err := apt.ParseDeb822Sources(bytes.NewReader([]byte(in)), "x.sources"); err == nil || !strings.Contains(err.Error(), "x.sources") {
			t.Errorf("%q: error %v", in, err)
		}
	}
}
