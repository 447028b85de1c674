package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestLayerRefusesEntriesUnderItsOwnSymlinks(t *testing.T) {
	b := NewBuilder()
	b.Put("usr/lib/foo", &Entry{Header: tar.Header{Typeflag: tar.TypeSymlink, Linkname: "/etc"}})
	b.File("usr/lib/foo/passwd", 0o644, []byte("x"))
	if err := b.CheckNoEntryUnderSymlink(); err == nil || !strings.Contains(err.Error(), "through the symlink") {
		t.Fatalf("err = %v", err)
	}
}

func TestLayerIsSortedAndStamped(t *testing.T) {
	b := NewBuilder()
	b.ModTime = time.Unix(1700000000, 0)
	b.File("usr/bin/b", 0o755, []byte("b"))
	b.Put("usr/bin/a", &Entry{Header: tar.Header{Typeflag: tar.TypeLink, Linkname: "usr/bin/z"}})
	b.File("usr/bin/z", 0o755, []byte("z"))
	b.Put("usr/bin", &Entry{Header: tar.Header{Typeflag: tar.TypeDir, Mode: 0o755}})
	b.Whiteout("usr/bin/old")
	var first, second bytes.Buffer
	if _, _, _, err := b.Write(context.Background(), &first, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := b.Write(context.Background(), &second, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("two writes of the same entries differ")
	}
	zr, err := gzipReader(first.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(b.ModTime) || h.Uname != "" && h.Uname != "root" {
			t.Errorf("%s: mtime %v, owner %s", h.Name, h.ModTime, h.Uname)
		}
	}
	want := "usr/bin/ usr/bin/.wh.old usr/bin/b usr/bin/z usr/bin/a"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries = %q, want %q (hard links last)", got, want)
	}
}

func gzipReader(b []byte) (io.Reader, error) { return gzip.NewReader(bytes.NewReader(b)) }
