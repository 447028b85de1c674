package rpmmd

import (
	"errors"
	"strings"
	"testing"
)

const sum64 = "0000000000000000000000000000000000000000000000000000000000000000"

// pkgXML returns a primary.xml of one package with the given checksum
// and location elements.
func pkgXML(checksum, location, extra string) string {
	return `<metadata><package type="rpm"><name>a</name><arch>x86_64</arch><version epoch="0" ver="1" rel="1"/>` + checksum + location +
		`<format>` + extra + `</format></package></metadata>`
}

func TestParsePrimaryRefuses(t *testing.T) {
	good := `<checksum type="sha256">` + sum64 + `</checksum>`
	loc := `<location href="Packages/a.rpm"/>`
	for name, tc := range map[string]struct {
		xml string
		is  error
	}{
		"md5":               {pkgXML(`<checksum type="md5">00000000000000000000000000000000</checksum>`, loc, ""), ErrWeakChecksum},
		"short digest":      {pkgXML(`<checksum type="sha256">00</checksum>`, loc, ""), nil},
		"absolute location": {pkgXML(good, `<location href="/etc/passwd"/>`, ""), nil},
		"parent location":   {pkgXML(good, `<location href="../../x.rpm"/>`, ""), nil},
		"url location":      {pkgXML(good, `<location href="http://evil/x.rpm"/>`, ""), nil},
		"file xml:base":     {pkgXML(good, `<location xml:base="file:///etc" href="a.rpm"/>`, ""), nil},
		"bad flags":         {pkgXML(good, loc, `<rpm:requires><rpm:entry name="b" flags="XX" ver="1"/></rpm:requires>`), nil},
		"relative file":     {pkgXML(good, loc, `<file>etc/a</file>`), nil},
		"unclean file":      {pkgXML(good, loc, `<file>/etc/../a</file>`), nil},
		"bad epoch":         {strings.Replace(pkgXML(good, loc, ""), `epoch="0"`, `epoch="x"`, 1), nil},
		"not xml":           {"<metadata><package>", nil},
		"encoded parent":    {pkgXML(good, `<location href="Packages/%2e%2e/%2E%2E/x.rpm"/>`, ""), nil},
		"encoded slash":     {pkgXML(good, `<location href="Packages/..%2f..%2fx.rpm"/>`, ""), nil},
		"billion laughs": {`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>` +
			strings.Replace(pkgXML(good, loc, ""), "<name>a</name>", "<name>&c;</name>", 1), nil},
	} {
		err := ParsePrimary(strings.NewReader(tc.xml), func(*Package) error { return nil })
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want %v", name, err, tc.is)
		}
	}
	var got *Package
	if err := ParsePrimary(strings.NewReader(pkgXML(good, `<location xml:base="https://other.example/os/" href="Packages/a.rpm"/>`,
		`<rpm:requires><rpm:entry name="b" flags="GE" epoch="2" ver="1.0" rel="3" pre="1"/><rpm:entry name="(c if d)"/></rpm:requires>`)),
		func(p *Package) error { got = p; return nil }); err != nil {
		t.Fatal(err)
	}
	if got.LocationBase != "https://other.example/os/" || got.Requires[0].String() != "b >= 2:1.0-3" || !got.Requires[0].Flags.Pre() || !got.Requires[1].Rich() {
		t.Errorf("package %+v", got)
	}
	md := &Metadata{BaseURL: "https://repo/"}
	if u := md.PackageURL(got); u != "https://other.example/os/Packages/a.rpm" {
		t.Errorf("package URL %s", u)
	}
}

func TestParseRepomdRefuses(t *testing.T) {
	data := func(typ, sum, href string) string {
		return `<repomd><data type="primary"><checksum type="` + typ + `">` + sum + `</checksum><location href="` + href + `"/></data></repomd>`
	}
	for name, x := range map[string]string{
		"md5":        data("md5", "00000000000000000000000000000000", "repodata/p.xml.gz"),
		"unknown":    data("crc32", "00000000", "repodata/p.xml.gz"),
		"escape":     data("sha256", sum64, "../p.xml.gz"),
		"absolute":   data("sha256", sum64, "/repodata/p.xml.gz"),
		"no primary": `<repomd><data type="other"><checksum type="sha256">` + sum64 + `</checksum><location href="o.xml"/></data></repomd>`,
		"too large":  "<repomd>" + strings.Repeat(" ", maxRepomdSize) + "</repomd>",
	} {
		if _, err := ParseRepomd([]byte(x)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseRepomd([]byte(data("sha", "0000000000000000000000000000000000000000", "repodata/p.xml.gz"))); err != nil {
		t.Errorf(`"sha" (SHA-1): %v`, err)
	}
}
