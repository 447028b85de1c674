package rpmmd

import (
	"bytes"
	"testing"
)

// FuzzParsePrimary: malformed primary.xml gives errors, never panics.
func FuzzParsePrimary(f *testing.F) {
	f.Add([]byte(`<metadata><package type="rpm"><name>a</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256">` +
		`0000000000000000000000000000000000000000000000000000000000000000</checksum><location href="Packages/a.rpm"/>` +
		`<format><rpm:provides><rpm:entry name="a" flags="EQ" epoch="0" ver="1" rel="1"/></rpm:provides><file>/etc/a</file></format></package></metadata>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ParsePrimary(bytes.NewReader(data), func(p *Package) error {
			if p.Location == "" || p.Location[0] == '/' {
				t.Fatalf("location %q", p.Location)
			}
			return nil
		})
	})
}

// FuzzRepoFile: malformed .repo files give errors, never panic.
func FuzzRepoFile(f *testing.F) {
	f.Add([]byte(rockyRepo))
	f.Fuzz(func(t *testing.T, data []byte) {
		repos, err := ParseRepoFile("f.repo", data, NewVars("x86_64", "9"), Main{})
		if err != nil {
			return
		}
		for _, r := range repos {
			paths, _, err := r.KeyFiles()
			if err != nil {
				continue
			}
			for _, p := range paths {
				if p == "" || p[0] == '/' || p == ".." || bytes.HasPrefix([]byte(p), []byte("../")) {
					t.Fatalf("key path %q", p)
				}
			}
		}
	})
}

// FuzzRepomd: malformed repomd.xml gives errors, never panics.
func FuzzRepomd(f *testing.F) {
	f.Add([]byte(`<repomd><data type="primary"><checksum type="sha256">0000000000000000000000000000000000000000000000000000000000000000</checksum><location href="repodata/p.xml.gz"/></data></repomd>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := ParseRepomd(data)
		if err == nil && md.Data["primary"].Location == "" {
			t.Fatal("no primary location")
		}
	})
}

// FuzzModules: malformed modules.yaml gives errors, never panics.
func FuzzModules(f *testing.F) {
	f.Add([]byte("---\ndocument: modulemd\nversion: 2\ndata:\n  name: nodejs\n  stream: 18\n  artifacts:\n    rpms:\n    - nodejs-1:18.1-1.x86_64\n...\n---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: nodejs\n  stream: \"18\"\n...\n"))
	f.Add([]byte("a: &a [*a, *a, *a]\nb: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseModules(bytes.NewReader(data))
	})
}
