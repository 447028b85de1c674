package rpmmd_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/patchloop/patchloop/internal/rpmmd"
)

// syntheticPrimary writes a primary.xml of n packages shaped like
// Rocky's BaseOS entries: a dozen dependencies and a few files each.
func syntheticPrimary(n int) []byte {
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

// BenchmarkParsePrimary parses a primary.xml of 10,000 packages (Rocky
// 9's BaseOS has ~1,100, AppStream ~5,500, Fedora's everything ~70,000).
func BenchmarkParsePrimary(b *testing.B) {
	const n = 10000
	data := syntheticPrimary(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		count := 0
		if err := rpmmd.ParsePrimary(bytes.NewReader(data), func(*rpmmd.Package) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("%d packages", count)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packages/s")
}
