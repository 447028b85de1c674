package rpmmd

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// SyntheticPrimary writes a primary.xml of n packages shaped like
// Rocky's BaseOS entries: a dozen dependencies and a few files each.
func SyntheticPrimary(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">`, n)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `<package type="rpm"><name>pkg%d</name><arch>x86_64</arch><version epoch="0" ver="1.%d" rel="3.el9"/>`, i, i)
		fmt.Fprintf(&b, `<checksum type="sha256" pkgid="YES">%064x</checksum><summary>Package %d</summary><description>A package that does things, number %d.</description>`, i, i, i)
		fmt.Fprintf(&b, `<packager>Rocky</packager><url>https://example.org</url><time file="1" build="1"/><size package="123456" installed="654321" archive="655000"/>`)
		fmt.Fprintf(&b, `<location href="Packages/p/pkg%d-1.%d-3.el9.x86_64.rpm"/><format><rpm:license>GPLv3+</rpm:license><rpm:vendor>Rocky</rpm:vendor><rpm:group>Unspecified</rpm:group>`, i, i)
		fmt.Fprintf(&b, `<rpm:buildhost>build</rpm:buildhost><rpm:sourcerpm>pkg%d-1.%d-3.el9.src.rpm</rpm:sourcerpm><rpm:header-range start="4504" end="20000"/>`, i/2, i)
		fmt.Fprintf(&b, `<rpm:provides><rpm:entry name="pkg%d" flags="EQ" epoch="0" ver="1.%d" rel="3.el9"/><rpm:entry name="pkg%d(x86-64)" flags="EQ" epoch="0" ver="1.%d" rel="3.el9"/><rpm:entry name="libpkg%d.so.1()(64bit)"/></rpm:provides>`, i, i, i, i, i)
		b.WriteString(`<rpm:requires>`)
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&b, `<rpm:entry name="libdep%d.so.%d()(64bit)"/>`, (i+j)%500, j)
		}
		b.WriteString(`<rpm:entry name="/bin/sh" pre="1"/><rpm:entry name="glibc" flags="GE" epoch="0" ver="2.34"/></rpm:requires>`)
		fmt.Fprintf(&b, `<file>/usr/bin/pkg%d</file><file>/etc/pkg%d.conf</file><file type="dir">/etc/pkg%d.d</file></format></package>`+"\n", i, i, i)
	}
	b.WriteString("</metadata>\n")
	return b.Bytes()
}

// BenchmarkParsedPrimaryCache reads back the parsed copy of a primary of
// 10,000 packages, what a client does instead of parsing a primary it
// parsed before (BenchmarkParsePrimary).
func BenchmarkParsedPrimaryCache(b *testing.B) {
	const n = 10000
	var pkgs []*Package
	if err := ParsePrimary(bytes.NewReader(SyntheticPrimary(n)), func(p *Package) error { pkgs = append(pkgs, p); return nil }); err != nil {
		b.Fatal(err)
	}
	c, err := NewClient(Options{CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	sum := Checksum{Type: "sha256", Hex: fmt.Sprintf("%064x", 1)}
	c.writeParsed(context.Background(), sum, pkgs)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, ok := c.readParsed(sum)
		if !ok || len(got) != n {
			b.Fatalf("read back %d packages", len(got))
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packages/s")
}
