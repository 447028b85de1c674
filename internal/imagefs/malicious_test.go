package imagefs_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/imagefs"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

func TestMaliciousEntriesAreErrorsNamingTheLayer(t *testing.T) {
	for name, layerEntries := range map[string][]it.Entry{
		"dotdot":          {it.File("../../etc/passwd", "pwned")},
		"nested dotdot":   {it.File("usr/../../etc/passwd", "pwned")},
		"absolute":        {it.File("/etc/passwd", "pwned")},
		"hardlink escape": {it.Hardlink("etc/os-release", "../../etc/shadow")},
		"bad whiteout":    {it.File("etc/.wh.", "")},
	} {
		t.Run(name, func(t *testing.T) {
			layer := it.Layer(t, append([]it.Entry{it.File("etc/os-release", "ID=x")}, layerEntries...)...)
			img := it.Image(t, layer)
			v, err := imagefs.Open(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Resolve(context.Background(), imagefs.Request{Files: []string{"etc/os-release"}})
			d, _ := layer.Digest()
			if err == nil || !strings.Contains(err.Error(), "layer sha256:"+d.Hex[:12]) {
				t.Errorf("err = %v, want an error naming layer %s", err, d.Hex[:12])
			}
		})
	}
}

func TestTruncatedGzipLayer(t *testing.T) {
	big := strings.Repeat("some package data that compresses poorly? no, but enough of it\n", 4000)
	good := it.FilesLayer(t, map[string]string{"usr/lib/os-release": "ID=debian"})
	broken := it.TruncatedLayer(t, it.File("var/lib/dpkg/status", big), it.File("etc/debian_version", "12.5"))
	v, err := imagefs.Open(context.Background(), it.Image(t, good, broken))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Resolve(context.Background(), imagefs.Request{Files: []string{"etc/debian_version"}})
	d, _ := broken.Digest()
	if err == nil || !strings.Contains(err.Error(), "layer sha256:"+d.Hex[:12]) {
		t.Errorf("err = %v, want an error naming layer %s", err, d.Hex[:12])
	}
}

func TestArchiveLyingAboutSize(t *testing.T) {
	layer := it.Layer(t, it.Entry{Name: "var/lib/dpkg/status", Body: "short", Size: 1 << 40})
	v, err := imagefs.Open(context.Background(), it.Image(t, layer))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Resolve(context.Background(), imagefs.Request{Files: []string{"var/lib/dpkg/status"}}); err == nil {
		t.Error("no error for a 1 TiB entry")
	}
	if _, err := v.Resolve(context.Background(), imagefs.Request{Files: []string{"other"}}); err == nil {
		t.Error("no error for a truncated archive")
	}
}

func TestNotATarball(t *testing.T) {
	v, err := imagefs.Open(context.Background(), it.Image(t, it.RawLayer(bytes.Repeat([]byte("garbage!"), 200))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Resolve(context.Background(), imagefs.Request{Files: []string{"etc/os-release"}}); err == nil {
		t.Error("no error for garbage")
	}
}

func TestWalkLayer(t *testing.T) {
	layer := it.Layer(t, it.Dir("./"), it.Dir("./etc/"), it.File("./etc/hostname", "box"), it.Symlink("bin", "usr/bin"))
	var names []string
	n, err := imagefs.WalkLayer(context.Background(), layer, func(e imagefs.Entry, body io.Reader) error {
		names = append(names, e.Path)
		if e.Path == "etc/hostname" {
			b, err := io.ReadAll(body)
			if err != nil || string(b) != "box" {
				t.Errorf("body %q, %v", b, err)
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("WalkLayer: %d bytes, %v", n, err)
	}
	if got := strings.Join(names, ","); got != ",etc,etc/hostname,bin" {
		t.Errorf("paths = %s", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = imagefs.WalkLayer(ctx, layer, func(imagefs.Entry, io.Reader) error {
		cancel()
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancel between entries: %v", err)
	}
}
