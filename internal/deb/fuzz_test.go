package deb

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/deb/compression"
)

// FuzzParseParagraphs checks that the deb822 parser never panics and that
// whatever it accepts and can render parses back to the same paragraphs.
func FuzzParseParagraphs(f *testing.F) {
	f.Add(sampleControl)
	f.Add("Package: a\n\nPackage: b\nSHA256:\n abc 1 x\n")
	f.Add("# c\nA: 1\r\n \t\nB:\n .\n")
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ParseParagraphs(strings.NewReader(in))
		if err != nil {
			return
		}
		var again []Paragraph
		for _, p := range ps {
			out, err := p.MarshalText()
			if err != nil {
				return
			}
			q, err := ParseParagraph(out)
			if err != nil {
				t.Fatalf("rendered paragraph does not parse: %v\n%q", err, out)
			}
			again = append(again, q)
		}
		if !reflect.DeepEqual(ps, again) {
			t.Fatalf("round trip changed paragraphs:\n%#v\n%#v", ps, again)
		}
	})
}

// FuzzParseRelations checks that the relationship parser never panics and
// that formatting what it accepts parses back to the same relations.
func FuzzParseRelations(f *testing.F) {
	f.Add("libc6 (>= 2.34), libssl3 (= 3.0.11-1~deb12u2) | libssl1.1")
	f.Add("python3:any (<< 3.12~), perl:native, foo (> 1:2.0)")
	f.Add("bar [amd64 !i386] <!nocheck> <stage1 cross>,")
	f.Fuzz(func(t *testing.T, in string) {
		rels, err := ParseRelations(in)
		if err != nil {
			return
		}
		again, err := ParseRelations(FormatRelations(rels))
		if err != nil {
			t.Fatalf("formatted relations do not parse: %v", err)
		}
		if !reflect.DeepEqual(rels, again) {
			t.Fatalf("round trip changed relations:\n%#v\n%#v", rels, again)
		}
	})
}

// FuzzReader checks that reading arbitrary bytes as a package never panics
// and that no accepted entry path escapes the root.
func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	for _, c := range []compression.Format{compression.None, compression.Gzip, compression.Zstd} {
		buf.Reset()
		spec := Spec{
			Control:     Paragraph{Fields: []Field{{"Package", "a"}, {"Version", "1"}, {"Architecture", "all"}}},
			Files:       []File{{Path: "etc/a", Data: []byte("a\n"), Conffile: true}, {Path: "b/c", Type: TypeSymlink, Linkname: "../x"}},
			Scripts:     map[string][]byte{"postinst": []byte("#!/bin/sh\n")},
			Compression: c,
		}
		if err := Write(context.Background(), &buf, spec); err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Clone(buf.Bytes()))
	}
	f.Add([]byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ctx := context.Background()
		r, err := NewReader(ctx, bytes.NewReader(in))
		if err != nil {
			return
		}
		defer r.Close()
		for range 10000 {
			e, err := r.Next(ctx)
			if err != nil {
				return
			}
			if e.Path != "." && (strings.HasPrefix(e.Path, "/") || strings.HasPrefix(e.Path, "../") || e.Path == "..") {
				t.Fatalf("escaping path %q accepted", e.Path)
			}
			if _, err := io.Copy(io.Discard, io.LimitReader(r, 1<<20)); err != nil {
				return
			}
		}
	})
}
