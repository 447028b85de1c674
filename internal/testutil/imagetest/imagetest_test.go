package imagetest_test

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"

	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

func names(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
	}
}

func TestEntriesAndTar(t *testing.T) {
	got := names(t, it.Tar(t, it.Whiteout("var/lib/dpkg/status.d/libssl3"), it.Opaque("etc/apt"), it.Whiteout("top")))
	if strings.Join(got, ",") != "var/lib/dpkg/status.d/.wh.libssl3,etc/apt/.wh..wh..opq,.wh.top" {
		t.Errorf("names = %v", got)
	}
	got = names(t, it.Tar(t, it.FileEntries(map[string]string{"usr/lib/os-release": "x", "etc/hostname": "h"})...))
	if strings.Join(got, ",") != "etc/,etc/hostname,usr/,usr/lib/,usr/lib/os-release" {
		t.Errorf("names = %v", got)
	}
}

func TestImagesAndCounting(t *testing.T) {
	img, counter := it.Count(it.WindowsImage(t, it.FilesLayer(t, map[string]string{"a": "b"}), it.TruncatedLayer(t, it.File("c", strings.Repeat("d", 10000)))))
	cfg, err := img.ConfigFile()
	if err != nil || cfg.OS != "windows" {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers %v, %v", layers, err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, rc)
	if counter.Opened(0) != 1 || counter.Opened(1) != 0 || counter.Total() != 1 || counter.BytesRead() != n {
		t.Errorf("opened %d/%d, bytes %d of %d", counter.Opened(0), counter.Opened(1), counter.BytesRead(), n)
	}
	rc, err = layers[1].Uncompressed()
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
	}
	if err == nil {
		t.Error("truncated layer read without error")
	}
	d, _ := layers[1].Digest()
	if l, err := img.LayerByDigest(d); err != nil || l == nil {
		t.Errorf("LayerByDigest: %v", err)
	}
}
