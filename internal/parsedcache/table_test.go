package parsedcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testMagic  = "PLTESTX1"
	testSource = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// build writes records "rec<i>" with key k<i%50> in index 0 and p<i%7>,
// p<i%11> in index 1.
func build(t *testing.T, key []byte, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testMagic, key, testSource, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Add([]byte(fmt.Sprintf("rec%d", i)), []string{fmt.Sprintf("k%d", i%50)}, []string{fmt.Sprintf("p%d", i%7), fmt.Sprintf("q%d", i%11)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openBytes opens a table of the given bytes, through a file.
func openBytes(t *testing.T, data, key []byte, magic, source string, n int) (*Table, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "table")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return Open(f, key, magic, source, n)
}

func TestTableLookup(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeyLen)
	data := build(t, key, 1000)
	tab, err := openBytes(t, data, key, testMagic, testSource, 2)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := tab.Lookup(0, "k3")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, string(r))
	}
	var want []string
	for i := 3; i < 1000; i += 50 {
		want = append(want, fmt.Sprintf("rec%d", i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("k3: %v, want %v (add order)", got, want)
	}
	if recs, _ := tab.Lookup(1, "q10"); len(recs) != 90 || string(recs[0]) != "rec10" {
		t.Fatalf("q10: %d records", len(recs))
	}
	for _, k := range []string{"", "k", "k50", "zz", "p3"} {
		if recs, _ := tab.Lookup(0, k); len(recs) != 0 {
			t.Errorf("index 0 key %q: %d records", k, len(recs))
		}
	}
	if _, err := tab.Lookup(2, "k3"); err == nil {
		t.Error("lookup in a third index of a two-index table")
	}
}

// A table file changed after Open checked it is read as an error.
func TestTableChangedAfterOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeyLen)
	data := build(t, key, 5000)
	p := filepath.Join(t.TempDir(), "table")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := Open(f, key, testMagic, testSource, 2)
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.ReplaceAll(data, []byte("rec4999"), []byte("evil999"))
	if err := os.WriteFile(p, changed, 0o600); err != nil { // same inode
		t.Fatal(err)
	}
	if _, err := tab.Lookup(0, "k49"); !errors.Is(err, ErrBadTable) {
		t.Fatalf("lookup after the file changed: %v, want ErrBadTable", err)
	}
}

func TestOpenRejects(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeyLen)
	data := build(t, key, 100)
	other := bytes.Repeat([]byte{8}, KeyLen)
	for name, open := range map[string]func() (*Table, error){
		"other key":    func() (*Table, error) { return openBytes(t, data, other, testMagic, testSource, 2) },
		"other source": func() (*Table, error) { return openBytes(t, data, key, testMagic, strings.Repeat("a", 64), 2) },
		"other magic":  func() (*Table, error) { return openBytes(t, data, key, "PLOTHER1", testSource, 2) },
		"other count":  func() (*Table, error) { return openBytes(t, data, key, testMagic, testSource, 1) },
		"flipped": func() (*Table, error) {
			b := bytes.Clone(data)
			b[50] ^= 1
			return openBytes(t, b, key, testMagic, testSource, 2)
		},
		"short": func() (*Table, error) { return openBytes(t, data[:20], key, testMagic, testSource, 2) },
	} {
		if _, err := open(); !errors.Is(err, ErrBadTable) {
			t.Errorf("%s: %v, want ErrBadTable", name, err)
		}
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	parses := 0
	parse := func(ctx context.Context, w *Writer) error {
		parses++
		return w.Add([]byte("r"), []string{"a"}, nil)
	}
	c, err := New(Options{Dir: dir, Magic: testMagic, Indexes: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.Get(ctx, "http://x/idx", testSource, parse); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); parses != 1 || s.Parsed != 1 {
		t.Fatalf("three gets: %d parses, %+v", parses, s)
	}
	// A parse error is returned and leaves nothing behind.
	boom := errors.New("boom")
	if _, err := c.Get(ctx, "http://x/idx", strings.Repeat("b", 64), func(context.Context, *Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing parse: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 { // key and the first table
		t.Errorf("cache holds %d files after a failed parse", len(ents))
	}
	// A name that is not a SHA256 never becomes a path.
	if _, err := c.Get(ctx, "http://x/idx", "../../etc/passwd", parse); err == nil {
		t.Fatal("source ../../etc/passwd accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, testSource)); err != nil {
		t.Fatal(err)
	}
	c2, _ := New(Options{Dir: dir, Magic: testMagic, Indexes: 2})
	tab, err := c2.Get(ctx, "http://x/idx", testSource, parse)
	if err != nil {
		t.Fatal(err)
	}
	if recs, _ := tab.Lookup(0, "a"); len(recs) != 1 || c2.Stats().Loaded != 1 || parses != 1 {
		t.Fatalf("second cache: %d records, %+v, %d parses", len(recs), c2.Stats(), parses)
	}
}
