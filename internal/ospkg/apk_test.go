package ospkg

import (
	"reflect"
	"strings"
	"testing"
)

// alpineInstalled is an excerpt of an Alpine 3.19 lib/apk/db/installed.
const alpineInstalled = `C:Q1FAFBeAhWPV1oiMUNYvd0m26kl8k=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407427
I:667648
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1705335186
c:a11fcac81d5d3b0ab1f5d4ac9d7d1d8c6d2b61e0
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1kVZVJ+d9B/y0AvWAZFqjU1rBpcM=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1l4b7ngdYOYQN7ZMw2+NlSh2KrsQ=
P:libcrypto3
V:3.1.4-r5
A:x86_64
o:openssl
D:so:libc.musl-x86_64.so.1

P:alpine-baselayout-data
V:3.4.3-r2
A:x86_64
`

func TestParseApkInstalled(t *testing.T) {
	got, err := parseApkInstalled([]byte(alpineInstalled))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{ID: "musl@1.2.4_git20230717-r4", Type: Apk, Name: "musl", Version: "1.2.4_git20230717-r4", Arch: "x86_64", SrcName: "musl", SrcVersion: "1.2.4_git20230717-r4"},
		{ID: "libcrypto3@3.1.4-r5", Type: Apk, Name: "libcrypto3", Version: "3.1.4-r5", Arch: "x86_64", SrcName: "openssl", SrcVersion: "3.1.4-r5"},
		{ID: "alpine-baselayout-data@3.4.3-r2", Type: Apk, Name: "alpine-baselayout-data", Version: "3.4.3-r2", Arch: "x86_64", SrcName: "alpine-baselayout-data", SrcVersion: "3.4.3-r2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
	if v := got[1].FullVersion(); v != "3.1.4-r5" {
		t.Errorf("FullVersion = %q", v)
	}
}

func TestParseApkInstalledErrors(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"no version":    {"P:musl\nA:x86_64\n\nP:b\nV:1\n", "line 1: record without"},
		"no name":       {"P:a\nV:1\n\n\nV:2-r0\n", "line 5: record without"},
		"malformed":     {"P:a\nV:1\nbroken\n", "line 3: malformed line"},
		"only checksum": {"C:abc\n", "line 1: record without"},
	} {
		_, err := parseApkInstalled([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, tc.want)
		}
	}
}
