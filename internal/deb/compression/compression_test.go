package compression

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for in, want := range map[string][2]string{
		"data.tar.xz":  {"data.tar", "xz"},
		"data.tar.zst": {"data.tar", "zst"},
		"control.tar":  {"control.tar", ""},
		"Packages.gz":  {"Packages", "gz"},
		"data.tar.bz2": {"data.tar", "bz2"},
		"data.tar.lz":  {"data.tar.lz", ""},
	} {
		stem, f := Split(in)
		if stem != want[0] || string(f) != want[1] {
			t.Errorf("Split(%q) = %q, %q", in, stem, f)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	raw := []byte(strings.Repeat("Package: hello\nVersion: 1.0\n\n", 100))
	for _, f := range []Format{None, Gzip, XZ, Zstd} {
		var a, b bytes.Buffer
		for _, buf := range []*bytes.Buffer{&a, &b} {
			w, err := NewWriter(buf, f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(raw); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%q: output not deterministic", f)
		}
		r, err := NewReader(&a, f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%q: round trip: %v", f, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%q: close: %v", f, err)
		}
	}
}

func TestBzip2ReadOnly(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "hello-data.tar.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(data), Bzip2)
	if err != nil {
		t.Fatal(err)
	}
	tarball, err := io.ReadAll(r)
	if err != nil || !bytes.Contains(tarball, []byte("./usr/share/doc/hello/README")) {
		t.Errorf("bzip2 read: %v", err)
	}
	if _, err := NewWriter(io.Discard, Bzip2); err == nil {
		t.Error("bzip2 writer created")
	}
	if _, err := NewReader(bytes.NewReader(nil), Format("lz4")); err == nil {
		t.Error("unknown format accepted")
	}
	for _, f := range []Format{Gzip, XZ, Zstd} {
		r, err := NewReader(strings.NewReader("not compressed at all"), f)
		if err == nil {
			_, err = io.ReadAll(r)
		}
		if err == nil {
			t.Errorf("%q: garbage accepted", f)
		}
	}
}
