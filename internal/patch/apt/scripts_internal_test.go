package apt

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/deb/compression"
	"github.com/patchloop/patchloop/internal/patch/layer"
)

func TestInfoFilesAndSkippedScripts(t *testing.T) {
	ctl := deb.Paragraph{Fields: []deb.Field{
		{Name: "Package", Value: "libx1"}, {Name: "Version", Value: "2.0-1"},
		{Name: "Architecture", Value: "amd64"}, {Name: "Multi-Arch", Value: "same"},
		{Name: "Description", Value: "test"},
	}}
	var buf bytes.Buffer
	err := deb.Write(context.Background(), &buf, deb.Spec{
		Control:     ctl,
		Files:       []deb.File{{Path: "usr/lib/x86_64-linux-gnu/libx.so.1", Data: []byte("x")}},
		Scripts:     map[string][]byte{"postinst": []byte("#!/bin/sh\nldconfig\n")},
		Compression: compression.Gzip,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "libx1.deb")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := layer.NewSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	orig := &installed{Name: "libx1", Arch: "amd64", MultiArch: "same", Version: "1.0-1"}
	ps := &pkgState{name: "libx1", arch: "amd64", multiArch: "same", version: "2.0-1", orig: orig}
	dp, err := readDeb(context.Background(), path, ps, sp)
	if err != nil {
		t.Fatal(err)
	}
	if got := skippedScripts([]*debPackage{dp}); len(got) != 1 || got[0].Package != "libx1" || !slices.Equal(got[0].Scripts, []string{"postinst"}) {
		t.Fatalf("skipped scripts = %+v", got)
	}
	b := layer.NewBuilder()
	old := &infoSet{files: map[string][]byte{
		"libx1:amd64.list": []byte("/.\n"), "libx1:amd64.prerm": []byte("#!/bin/sh\n"),
		"libx1-extra:amd64.list": []byte("/.\n"), "libx1:amd64.bar.list": []byte("/.\n"),
	}}
	writeInfo(b, dp, old)
	for _, want := range []string{
		"var/lib/dpkg/info/libx1:amd64.list", "var/lib/dpkg/info/libx1:amd64.md5sums",
		"var/lib/dpkg/info/libx1:amd64.postinst", "var/lib/dpkg/info/.wh.libx1:amd64.prerm",
	} {
		if !b.Has(want) {
			t.Errorf("layer lacks %s; has %v", want, b.Paths())
		}
	}
	if e := b.Get("var/lib/dpkg/info/libx1:amd64.postinst"); e != nil && e.Header.Mode != 0o755 {
		t.Errorf("postinst mode = %o", e.Header.Mode)
	}
	for _, unwanted := range []string{"var/lib/dpkg/info/.wh.libx1-extra:amd64.list", "var/lib/dpkg/info/.wh.libx1:amd64.bar.list", "var/lib/dpkg/info/libx1:amd64.control"} {
		if b.Has(unwanted) {
			t.Errorf("layer has %s", unwanted)
		}
	}
}
