package imagefs_test

import (
	"context"
	"io"
	"testing"

	"github.com/patchloop/patchloop/internal/imagefs"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// FuzzLayerReader feeds arbitrary bytes as an uncompressed layer (over a
// fixed lower layer) to WalkLayer and Resolve: they may fail, never panic.
func FuzzLayerReader(f *testing.F) {
	f.Add(it.Tar(f, it.File("etc/os-release", "ID=debian"), it.Symlink("lib", "usr/lib")))
	f.Add(it.Tar(f, it.Whiteout("var/lib/dpkg/status"), it.Opaque("var/lib/dpkg/status.d"), it.File("var/lib/dpkg/status.d/a", "x")))
	f.Add(it.Tar(f, it.Symlink("etc/os-release", "/../../etc/passwd"), it.Hardlink("etc/alpine-release", "etc/os-release")))
	f.Add(it.Tar(f, it.Symlink("a", "b"), it.Symlink("b", "a/c"), it.Dir("var/lib/dpkg/status.d/x/")))
	f.Add(it.Tar(f, it.File("../x", "y")))
	f.Add([]byte("not a tar"))
	lower := it.Layer(f,
		it.File("usr/lib/os-release", "ID=debian"),
		it.File("var/lib/dpkg/status.d/base", "Package: base"),
		it.Symlink("etc/os-release", "../usr/lib/os-release"),
	)
	req := imagefs.Request{
		Files:       []string{"etc/os-release", "lib/apk/db/installed", "a", "etc/alpine-release"},
		Globs:       []string{"var/lib/dpkg/status.d/*"},
		Stat:        []string{"lib", "bin/sh"},
		MaxFileSize: 1 << 20,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		layer := it.RawLayer(data)
		_, _ = imagefs.WalkLayer(context.Background(), layer, func(_ imagefs.Entry, body io.Reader) error {
			_, err := io.Copy(io.Discard, io.LimitReader(body, 1<<20))
			return err
		})
		v, err := imagefs.Open(context.Background(), it.Image(t, lower, layer))
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Resolve(context.Background(), req)
		if err == nil && !res.Complete {
			t.Fatal("incomplete result without Enough")
		}
	})
}
