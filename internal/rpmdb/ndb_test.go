package rpmdb_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/adler32"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	gorpmdb "github.com/anchore/go-rpmdb/pkg"
	"github.com/google/go-cmp/cmp"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmdb"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
	"github.com/patchloop/patchloop/internal/testutil/rpmbuild"
)

// ndbRows lists an NDB database as dbRows lists an SQLite one: blobs by
// package name and index entries with header numbers as names.
func ndbRows(t *testing.T, dir string) (map[string][]byte, []string) {
	t.Helper()
	blobs, names := map[string][]byte{}, map[uint32]string{}
	ctx := context.Background()
	db, err := rpmdb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pkgs, err := db.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		h, err := p.Header()
		if err != nil {
			t.Fatal(err)
		}
		n, _ := h.String(rpm.TagName)
		blobs[n], names[p.HNum] = p.Blob, n
	}
	entries, err := rpmdb.IndexEntries(db)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, ix := range rpmdb.Indexes {
		typ := "blob"
		if ix.Text {
			typ = "text"
		}
		for _, e := range entries[ix.Name] {
			rows = append(rows, fmt.Sprintf("%s %s %s %s %d", ix.Name, typ, strings.ToUpper(hex.EncodeToString(e.Key)), names[e.HNum], e.Idx))
		}
	}
	sort.Strings(rows)
	return blobs, rows
}

func dedupe(rows []string) []string {
	var out []string
	for i, r := range rows {
		if i == 0 || rows[i-1] != r {
			out = append(out, r)
		}
	}
	return out
}

// TestNDBMatchesRPM replays what rpm did to an SQLite database (install
// three packages, upgrade one and pull in another) on an NDB database, with
// rpm's own installed headers, and compares every index entry; the result
// is read back by ospkg's reader and by anchore's go-rpmdb.
func TestNDBMatchesRPM(t *testing.T) {
	f := buildFixture(t)
	dir := t.TempDir()
	rpmRoot := filepath.Join(dir, "rpm")
	rpmbuild.InitDB(t, rpmRoot)
	rpmbuild.Install(t, rpmRoot, f.old...)
	oldBlobs, _ := dbRows(t, filepath.Join(rpmRoot, "var/lib/rpm", rpmdb.SQLiteFile))
	rpmbuild.Upgrade(t, rpmRoot, f.upgrade...)
	rpmBlobs, rpmRows := dbRows(t, filepath.Join(rpmRoot, "var/lib/rpm", rpmdb.SQLiteFile))

	ndbDir := filepath.Join(dir, "ndb")
	mkdir(t, ndbDir)
	if err := rpmdb.InitNDB(ndbDir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// rpm installed the old packages as alpha, beta, gamma (its order).
	step := func(add []string, blobs map[string][]byte, remove ...string) {
		t.Helper()
		db, err := rpmdb.Open(ctx, ndbDir)
		if err != nil {
			t.Fatal(err)
		}
		if db.Format() != rpmdb.FormatNDB {
			t.Fatalf("format %s", db.Format())
		}
		for _, name := range add {
			h, err := rpm.ParseBlob(blobs[name])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Add(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		pkgs, err := db.Packages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkgs {
			h, _ := p.Header()
			n, _ := h.String(rpm.TagName)
			v, _ := h.String(rpm.TagVersion)
			if contains(remove, n+"-"+v) {
				if err := db.Remove(ctx, p.HNum); err != nil {
					t.Fatal(err)
				}
			}
		}
		ch, err := db.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rpmdb.Changes{Write: []string{"Packages.db", "Index.db"}}, ch); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
	}
	step(hnumOrder(t, filepath.Join(rpmRoot, "var/lib/rpm"), []string{"alpha", "beta", "gamma"}), oldBlobs)
	step([]string{"delta", "alpha"}, rpmBlobs, "alpha-1.0")

	gotBlobs, gotRows := ndbRows(t, ndbDir)
	if len(gotBlobs) != len(rpmBlobs) {
		t.Errorf("%d packages, rpm has %d", len(gotBlobs), len(rpmBlobs))
	}
	for name, want := range rpmBlobs {
		if !bytes.Equal(gotBlobs[name], want) {
			t.Errorf("%s: header differs from rpm's", name)
		}
	}
	if diff := cmp.Diff(dedupe(rpmRows), gotRows); diff != "" {
		t.Errorf("index entries (-rpm sqlite +ndb):\n%s", diff)
	}
	checkReaders(t, ndbDir, []string{"alpha-2.0-1", "beta-1.0-1", "delta-0.1-1", "gamma-3-1"})
}

func hnumOrder(t *testing.T, dbdir string, names []string) []string {
	t.Helper()
	// The sqlite hnums of the first transaction give rpm's install order.
	ctx := context.Background()
	db, err := rpmdb.Open(ctx, dbdir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pkgs, err := db.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pkgs {
		h, _ := p.Header()
		n, _ := h.String(rpm.TagName)
		if contains(names, n) {
			out = append(out, n)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// checkReaders reads Packages.db back with ospkg (through an image) and
// with anchore's go-rpmdb and checks both see exactly nvrs.
func checkReaders(t *testing.T, dir string, nvrs []string) {
	t.Helper()
	data := readFile(t, filepath.Join(dir, rpmdb.NDBPackages))
	img := imagetest.Image(t, imagetest.FilesLayer(t, map[string]string{
		"etc/os-release":          "ID=opensuse-leap\nVERSION_ID=\"15.6\"\n",
		"var/lib/rpm/Packages.db": string(data),
	}))
	inv, err := ospkg.Inspect(context.Background(), img)
	if err != nil {
		t.Fatalf("ospkg: %v", err)
	}
	var got []string
	for _, p := range inv.Packages {
		got = append(got, p.Name+"-"+p.Version+"-"+p.Release)
	}
	sort.Strings(got)
	if diff := cmp.Diff(nvrs, got); diff != "" {
		t.Errorf("ospkg reads (-want +got):\n%s", diff)
	}

	gdb, err := gorpmdb.Open(filepath.Join(dir, rpmdb.NDBPackages))
	if err != nil {
		t.Fatalf("go-rpmdb: %v", err)
	}
	defer gdb.Close()
	list, err := gdb.ListPackages()
	if err != nil {
		t.Fatalf("go-rpmdb: %v", err)
	}
	got = nil
	for _, p := range list {
		got = append(got, p.Name+"-"+p.Version+"-"+p.Release)
	}
	sort.Strings(got)
	if diff := cmp.Diff(nvrs, got); diff != "" {
		t.Errorf("go-rpmdb reads (-want +got):\n%s", diff)
	}
}

// TestNDBChurn adds and removes many packages, with enough keys to make
// the indexes grow and rebuild and Packages.db move blobs and add slot
// pages, and checks after each commit that the files read back with every
// index equal to what the remaining headers give.
func TestNDBChurn(t *testing.T) {
	dir := t.TempDir()
	if err := rpmdb.InitNDB(dir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	live := map[uint32]*rpm.Header{}
	serial := 0
	for round := range 8 {
		db, err := rpmdb.Open(ctx, dir)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for range 80 {
			if len(live) > 0 && rng.IntN(4) == 0 {
				var nums []uint32
				for n := range live {
					nums = append(nums, n)
				}
				sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
				n := nums[rng.IntN(len(nums))]
				if err := db.Remove(ctx, n); err != nil {
					t.Fatal(err)
				}
				delete(live, n)
				continue
			}
			serial++
			h := synthHeader(serial, rng.IntN(40)+1, rng.IntN(2000))
			n, err := db.Add(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			live[n] = h
		}
		if _, err := db.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		db, err = rpmdb.Open(ctx, dir)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		pkgs, err := db.Packages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkgs) != len(live) {
			t.Fatalf("round %d: %d packages, want %d", round, len(pkgs), len(live))
		}
		got, err := rpmdb.IndexEntries(db)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]rpmdb.IndexEntry{}
		for n, h := range live {
			for _, ix := range rpmdb.Indexes {
				for _, k := range rpmdb.Keys(h, ix, littleEndian) {
					want[ix.Name] = append(want[ix.Name], rpmdb.IndexEntry{Key: k.Key, HNum: n, Idx: k.Idx})
				}
			}
		}
		for _, ix := range rpmdb.Indexes {
			w := rpmdb.SortEntries(want[ix.Name])
			if !sameEntries(w, got[ix.Name]) {
				t.Fatalf("round %d: index %s (-want +got):\n%s", round, ix.Name, cmp.Diff(w, got[ix.Name]))
			}
		}
		_ = db.Close()
	}
	var nvrs []string
	for _, h := range live {
		n, _ := h.String(rpm.TagName)
		v, _ := h.String(rpm.TagVersion)
		r, _ := h.String(rpm.TagRelease)
		nvrs = append(nvrs, n+"-"+v+"-"+r)
	}
	sort.Strings(nvrs)
	checkReaders(t, dir, nvrs)
}

// synthHeader is an installed-like header with nfiles files and a payload
// of pad bytes (to vary blob sizes).
func synthHeader(i, nfiles, pad int) *rpm.Header {
	h := rpm.NewHeader(rpm.TagHeaderImmutable)
	name := fmt.Sprintf("pkg%03d", i)
	h.Set(rpm.StringEntry(rpm.TagName, name))
	h.Set(rpm.StringEntry(rpm.TagVersion, "1"))
	h.Set(rpm.StringEntry(rpm.TagRelease, fmt.Sprint(i)))
	h.Set(rpm.StringEntry(rpm.TagArch, "x86_64"))
	h.Set(rpm.StringEntry(rpm.TagOS, "linux"))
	h.Set(rpm.StringEntry(rpm.TagSourceRPM, name+"-1-1.src.rpm"))
	var base, dirs []string
	var idx []int32
	for f := range nfiles {
		base = append(base, fmt.Sprintf("file%d-%d", i, f))
		idx = append(idx, int32(f%3))
	}
	dirs = []string{"/usr/bin/", "/usr/share/" + name + "/", "/etc/"}
	h.Set(rpm.StringsEntry(rpm.TagBasenames, base))
	h.Set(rpm.Int32Entry(rpm.TagDirIndexes, idx...))
	h.Set(rpm.StringsEntry(rpm.TagDirnames, dirs))
	h.Set(rpm.StringsEntry(rpm.TagProvideName, []string{name, "common-capability"}))
	h.Set(rpm.StringsEntry(rpm.TagRequireName, []string{"common-capability", "(a or b)"}))
	h.Set(rpm.Int32Entry(rpm.TagRequireFlags, 0, 0))
	h.Set(rpm.BinEntry(rpm.TagSourceSigMD5, bytes.Repeat([]byte{byte(i)}, pad+1)))
	b, err := h.Blob()
	if err != nil {
		panic(err)
	}
	p, err := rpm.ParseBlob(b)
	if err != nil {
		panic(err)
	}
	p.Set(rpm.Int32Entry(rpm.TagInstallTID, int32(1000+i)))
	p.Set(rpm.BinEntry(rpm.TagSigMD5, bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 8)))
	return p
}

var littleEndian = binary.LittleEndian

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNDBRebuildsIndexes opens an NDB database without Index.db, and one
// whose Index.db is outdated, and checks the indexes are rebuilt from the
// packages as rpm does.
func TestNDBRebuildsIndexes(t *testing.T) {
	dir := t.TempDir()
	if err := rpmdb.InitNDB(dir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := rpmdb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := db.Add(ctx, synthHeader(i+1, i%7+1, i*13)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	entries := func() map[string][]rpmdb.IndexEntry {
		t.Helper()
		db, err := rpmdb.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		e, err := rpmdb.IndexEntries(db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return e
	}
	want := entries()
	if len(want["Basenames"]) == 0 {
		t.Fatal("no Basenames entries")
	}
	if err := os.Remove(filepath.Join(dir, rpmdb.NDBIndex)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, entries()); diff != "" {
		t.Errorf("rebuilt from nothing (-want +got):\n%s", diff)
	}
	idx := readFile(t, filepath.Join(dir, rpmdb.NDBIndex))
	idx[20]++ // user generation no longer the packages' generation
	if err := os.WriteFile(filepath.Join(dir, rpmdb.NDBIndex), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, entries()); diff != "" {
		t.Errorf("rebuilt when outdated (-want +got):\n%s", diff)
	}
}

func TestNDBRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	if err := rpmdb.InitNDB(dir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := rpmdb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Add(ctx, synthHeader(1, 3, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Add(ctx, synthHeader(2, 3, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	good := readFile(t, filepath.Join(dir, rpmdb.NDBPackages))
	if _, err := rpmdb.Open(ctx, dir); err != nil {
		t.Fatalf("good database: %v", err)
	}
	for name, mutate := range map[string]func(b []byte){
		"blob byte":    func(b []byte) { b[4096+40] ^= 1 },
		"slot offset":  func(b []byte) { b[32+16+8+2] = 0x7f },
		"slot magic":   func(b []byte) { b[32+16] = 'X' },
		"header magic": func(b []byte) { b[0] = 'X' },
		"slot pages":   func(b []byte) { b[12] = 200 },
		// The second package's slot and blob name the first package, its
		// blob's checksum made to match.
		"package twice": func(b []byte) {
			copy(b[48+4:48+8], b[32+4:32+8])
			off, n := 16*binary.LittleEndian.Uint32(b[48+8:]), 16*binary.LittleEndian.Uint32(b[48+12:])
			blob := b[off : off+n]
			copy(blob[4:8], b[32+4:32+8])
			binary.LittleEndian.PutUint32(blob[len(blob)-12:], adler32.Checksum(blob[:len(blob)-12]))
		},
		// The second package's slot points at the first one's blob.
		"slots overlap": func(b []byte) { copy(b[48+8:48+16], b[32+8:32+16]); copy(b[48+4:48+8], []byte{9, 0, 0, 0}) },
		"truncated":     nil,
	} {
		b := bytes.Clone(good)
		if mutate != nil {
			mutate(b)
		} else {
			b = b[:len(b)-16]
		}
		if err := os.WriteFile(filepath.Join(dir, rpmdb.NDBPackages), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := rpmdb.Open(ctx, dir); err == nil {
			t.Errorf("%s: damaged Packages.db opened", name)

		}
	}
}

// TestNDBRealSUSEDatabase changes the Packages.db of a real SUSE image
// (SLE 15 BCI, from go-rpmdb's test data in the module cache): the
// checksums of rpm's blobs verify, the missing Index.db is built, and after
// an upgrade go-rpmdb and ospkg read the result.
func TestNDBRealSUSEDatabase(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/anchore/go-rpmdb").Output()
	if err != nil {
		t.Skipf("go-rpmdb's source not found: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "pkg/testdata/sle15-bci/Packages.db")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("no SUSE test database: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, rpmdb.NDBPackages), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := rpmdb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := db.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("%d packages", len(pkgs))
	}
	var nvrs []string
	var victim uint32
	for _, p := range pkgs {
		h, err := p.Header()
		if err != nil {
			t.Fatal(err)
		}
		n, _ := h.String(rpm.TagName)
		v, _ := h.String(rpm.TagVersion)
		r, _ := h.String(rpm.TagRelease)
		if n == "bash" {
			victim = p.HNum
			continue
		}
		nvrs = append(nvrs, n+"-"+v+"-"+r)
	}
	if victim == 0 {
		t.Fatal("no bash package")
	}
	entries, err := rpmdb.IndexEntries(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries["Providename"]) < len(pkgs) {
		t.Errorf("%d Providename entries for %d packages", len(entries["Providename"]), len(pkgs))
	}
	if err := db.Remove(ctx, victim); err != nil {
		t.Fatal(err)
	}
	h := synthHeader(1, 5, 100)
	if _, err := db.Add(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	nvrs = append(nvrs, "pkg001-1-1")
	sort.Strings(nvrs)
	checkReaders(t, dir, nvrs)
}

// sameEntries is a fast equality for large entry lists (cmp.Diff only
// explains a difference).
func sameEntries(a, b []rpmdb.IndexEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].HNum != b[i].HNum || a[i].Idx != b[i].Idx || !bytes.Equal(a[i].Key, b[i].Key) {
			return false
		}
	}
	return true
}
