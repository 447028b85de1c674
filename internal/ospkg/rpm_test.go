package ospkg

import (
	"context"
	"encoding/binary"
	"os"
	"reflect"
	"testing"
)

// wantRPMPackages are the packages of testdata/rpm, sorted.
var wantRPMPackages = []Package{
	{ID: "hello@1.2.3-4.el9.x86_64", Type: RPM, Name: "hello", Version: "1.2.3", Release: "4.el9", Epoch: 1, Arch: "x86_64",
		SrcName: "hello", SrcVersion: "1.2.3", SrcRelease: "4.el9", SrcEpoch: 1, Vendor: "Rocky Enterprise Software Foundation"},
	{ID: "libhello@1.2.3-4.el9.x86_64", Type: RPM, Name: "libhello", Version: "1.2.3", Release: "4.el9", Epoch: 1, Arch: "x86_64",
		SrcName: "hello", SrcVersion: "1.2.3", SrcRelease: "4.el9", SrcEpoch: 1, Vendor: "Rocky Enterprise Software Foundation"},
	{ID: "zdata@2024a-1.el9.noarch", Type: RPM, Name: "zdata", Version: "2024a", Release: "1.el9", Arch: "noarch",
		SrcName: "zdata", SrcVersion: "2024a", SrcRelease: "1.el9"},
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/rpm/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func checkRPM(t *testing.T, data []byte) {
	t.Helper()
	got, err := parseRPMDB(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	sortPackages(got)
	if !reflect.DeepEqual(got, wantRPMPackages) {
		t.Errorf("got\n%+v\nwant\n%+v", got, wantRPMPackages)
	}
	if v := got[0].FullVersion(); v != "1:1.2.3-4.el9" {
		t.Errorf("FullVersion = %q", v)
	}
}

func TestRPMSQLite(t *testing.T) { checkRPM(t, readTestdata(t, "rpmdb.sqlite")) }

func TestRPMBerkeleyDB(t *testing.T) { checkRPM(t, readTestdata(t, "Packages")) }

func TestRPMNDB(t *testing.T) {
	blobs, err := readSQLite(context.Background(), readTestdata(t, "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	checkRPM(t, buildNDB(blobs))
}

// buildNDB lays header blobs out as rpm's NDB backend does, with one free
// slot between packages.
func buildNDB(blobs [][]byte) []byte {
	le := binary.LittleEndian
	db := make([]byte, ndbPageSize)
	le.PutUint32(db, ndbMagic)
	le.PutUint32(db[12:], 1) // slot pages
	slot := ndbHeadSize
	for i, b := range blobs {
		slot += ndbSlotSize // a free slot
		copy(db[slot:], []byte("Slot"))
		for len(db)%ndbBlockSize != 0 {
			db = append(db, 0)
		}
		blk := len(db) / ndbBlockSize
		head := make([]byte, ndbBlockSize)
		le.PutUint32(head, ndbBlobMagic)
		le.PutUint32(head[4:], uint32(i+1))
		le.PutUint32(head[12:], uint32(len(b)))
		db = append(db, head...)
		db = append(db, b...)
		db = append(db, make([]byte, 12)...) // rpm's blob tail
		blocks := (len(db) - blk*ndbBlockSize + ndbBlockSize - 1) / ndbBlockSize
		le.PutUint32(db[slot+ndbSlotSize:], ndbSlotMagic)
		le.PutUint32(db[slot+ndbSlotSize+4:], uint32(i+1))
		le.PutUint32(db[slot+ndbSlotSize+8:], uint32(blk))
		le.PutUint32(db[slot+ndbSlotSize+12:], uint32(blocks))
		slot += ndbSlotSize
	}
	for s := ndbHeadSize; s < ndbPageSize; s += ndbSlotSize {
		if le.Uint32(db[s:]) == 0 || string(db[s:s+4]) == "Slot" {
			le.PutUint32(db[s:], ndbSlotMagic)
		}
	}
	return db
}

func TestRPMBrokenDatabases(t *testing.T) {
	ctx := context.Background()
	bdb := readTestdata(t, "Packages")
	sqlite := readTestdata(t, "rpmdb.sqlite")
	blobs, err := readSQLite(ctx, sqlite)
	if err != nil {
		t.Fatal(err)
	}
	ndb := buildNDB(blobs)
	cases := map[string][]byte{
		"unknown format":     []byte("definitely not an rpm database"),
		"truncated bdb":      bdb[:4096+100],
		"truncated ndb":      ndb[:len(ndb)-200],
		"truncated sqlite":   sqlite[:5000],
		"bdb bad page size":  patch(bdb, 20, 1000),
		"bdb huge last page": patch(bdb, 32, 1<<30),
		"ndb bad slot":       patch(ndb, ndbHeadSize+ndbSlotSize, 7),
		"ndb huge slots":     patch(ndb, 12, 1<<20),
	}
	for name, data := range cases {
		if _, err := parseRPMDB(ctx, data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// patch returns a copy of data with a little-endian uint32 written at off.
func patch(data []byte, off int, v uint32) []byte {
	out := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(out[off:], v)
	return out
}

func TestRPMHeaderErrors(t *testing.T) {
	blobs, err := readSQLite(context.Background(), readTestdata(t, "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	good := blobs[0]
	be := binary.BigEndian
	mutate := func(f func([]byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	cases := map[string][]byte{
		"short":        good[:7],
		"truncated":    good[:len(good)-1],
		"zero tags":    mutate(func(b []byte) { be.PutUint32(b, 0) }),
		"huge data":    mutate(func(b []byte) { be.PutUint32(b[4:], 1<<30) }),
		"string off":   mutate(func(b []byte) { setEntry(b, rpmTagName, func(e []byte) { be.PutUint32(e[8:], 1<<31) }) }),
		"not a string": mutate(func(b []byte) { setEntry(b, rpmTagName, func(e []byte) { be.PutUint32(e[4:], rpmTypeInt32) }) }),
		"no name":      mutate(func(b []byte) { setEntry(b, rpmTagName, func(e []byte) { be.PutUint32(e, 999999) }) }),
	}
	for name, b := range cases {
		if _, err := parseRPMHeader(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// setEntry edits the index entry of a tag in a header blob.
func setEntry(blob []byte, tag uint32, f func([]byte)) {
	il := binary.BigEndian.Uint32(blob)
	for i := range il {
		e := blob[8+16*i : 8+16*i+16]
		if binary.BigEndian.Uint32(e) == tag {
			f(e)
			return
		}
	}
}

func TestSplitRPMFileName(t *testing.T) {
	for in, want := range map[string][3]string{
		"openssl-3.0.7-27.el9.src.rpm":             {"openssl", "3.0.7", "27.el9"},
		"python3.11-libs-3.11.5-1.el9_3.src.rpm":   {"python3.11-libs", "3.11.5", "1.el9_3"},
		"glibc-2.26-64.amzn2.0.1.src.rpm":          {"glibc", "2.26", "64.amzn2.0.1"},
		"gcc11-11.2.1+git610-1.3.9.src.rpm":        {"gcc11", "11.2.1+git610", "1.3.9"},
		"kernel-rt-5.14.0-284.11.1.rt14.296.el9_2": {"kernel-rt", "5.14.0", "284.11.1.rt14.296"},
	} {
		n, v, r, ok := splitRPMFileName(in)
		if !ok || [3]string{n, v, r} != want {
			t.Errorf("%s: got %q %q %q %v", in, n, v, r, ok)
		}
	}
	for _, bad := range []string{"", "(none)", "noversion.src.rpm", "a-b.rpm", "nodots"} {
		if _, _, _, ok := splitRPMFileName(bad); ok {
			t.Errorf("%q: split", bad)
		}
	}
	p := rpmPackage(rpmHeader{name: "gpg-pubkey", version: "fd431d51", release: "4ae0493b", sourceRPM: "(none)"})
	if p.Arch != "None" || p.ID != "gpg-pubkey@fd431d51-4ae0493b." || p.SrcName != "gpg-pubkey" {
		t.Errorf("gpg-pubkey: %+v", p)
	}
}

func TestThirdParty(t *testing.T) {
	cases := []struct {
		p    Package
		want bool
	}{
		{Package{Type: RPM, Vendor: "Rocky Enterprise Software Foundation"}, false},
		{Package{Type: RPM, Vendor: "Red Hat, Inc."}, false},
		{Package{Type: RPM, Vendor: "Fedora Project"}, false},
		{Package{Type: RPM, Vendor: "Docker"}, true},
		{Package{Type: RPM, Vendor: ""}, true},
		{Package{Type: RPM, Vendor: "", Release: "1.amzn2"}, false},
		{Package{Type: Dpkg}, false},
		{Package{Type: Apk}, false},
	}
	for _, c := range cases {
		if got := c.p.ThirdParty(); got != c.want {
			t.Errorf("%+v: ThirdParty = %v, want %v", c.p, got, c.want)
		}
	}
}
