package ospkg_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/testutil/heap"
	it "github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// inspectErr inspects img and returns the error, failing the test when
// there is none.
func inspectErr(t *testing.T, img v1.Image) error {
	t.Helper()
	_, err := ospkg.Inspect(context.Background(), img)
	if err == nil {
		t.Fatal("Inspect succeeded on an oversized database")
	}
	return err
}

func wantErrParts(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

func alpine(t *testing.T, installed string) v1.Image {
	return it.Image(t, it.FilesLayer(t, map[string]string{
		"etc/alpine-release":   "3.19.1\n",
		"etc/os-release":       alpineOSRelease,
		"lib/apk/db/installed": installed,
	}))
}

func debian(t *testing.T, status string) v1.Image {
	return it.Image(t, it.FilesLayer(t, map[string]string{
		"etc/debian_version":  "12.5\n",
		"etc/os-release":      debianOSRelease,
		"var/lib/dpkg/status": status,
	}))
}

const (
	dpkgHead = "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n"
	apkHead  = "P:musl\nV:1.2.4-r4\nA:x86_64\n"
)

func TestApkFieldCaps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, db string
		parts    []string
	}{
		{"name", "P:" + strings.Repeat("n", ospkg.MaxIdentitySize+1) + "\nV:1\n",
			[]string{"lib/apk/db/installed", "line 1", "field P of 4097 bytes", "4096-byte cap"}},
		{"version", apkHead + "\nP:zlib\nV:" + strings.Repeat("1", ospkg.MaxIdentitySize+1) + "\n",
			[]string{"line 6", "package zlib: field V", "4096-byte cap"}},
		{"line", apkHead + "T:" + strings.Repeat("d", ospkg.MaxLineSize) + "\n",
			[]string{"line 4", "line of 1048578 bytes", "1048576-byte cap"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := inspectErr(t, alpine(t, c.db))
			if !errors.Is(err, ospkg.ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge", err)
			}
			wantErrParts(t, err, c.parts...)
		})
	}
}

func TestDpkgFieldCaps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, db string
		parts    []string
	}{
		{"version", "Package: bash\nStatus: install ok installed\nVersion: " + strings.Repeat("1", ospkg.MaxIdentitySize+1) + "\n",
			[]string{"var/lib/dpkg/status", "line 3", "package bash: field version of 4097 bytes", "4096-byte cap"}},
		{"description", dpkgHead + "Description: " + strings.Repeat("d", ospkg.MaxLineSize) + "\n",
			[]string{"line 5", "line over the 1048576-byte cap"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := inspectErr(t, debian(t, c.db))
			if !errors.Is(err, ospkg.ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge", err)
			}
			wantErrParts(t, err, c.parts...)
		})
	}
	// A long field nobody reads is fine under the line cap.
	inv := inspect(t, debian(t, dpkgHead+"Depends: "+strings.Repeat("libc6, ", 50_000)+"\n"))
	if len(inv.Packages) != 1 {
		t.Errorf("%d packages, want 1", len(inv.Packages))
	}
}

// rpmHeaderBlob builds an rpm header blob holding one NAME tag.
func rpmHeaderBlob(name string) []byte {
	data := append([]byte(name), 0)
	b := binary.BigEndian.AppendUint32(nil, 1)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = binary.BigEndian.AppendUint32(b, 1000) // NAME
	b = binary.BigEndian.AppendUint32(b, 6)    // STRING
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, 1)
	return append(b, data...)
}

// ndb builds an NDB Packages.db holding a few header blobs.
func ndb(blobs ...[]byte) []byte { return ndbPages(blobs...) }

// ndbPages builds an NDB Packages.db holding the header blobs, with as many
// slot pages as they need.
func ndbPages(blobs ...[]byte) []byte {
	const page = 4096
	le := binary.LittleEndian
	pages := (32 + 16*len(blobs) + page - 1) / page
	db := make([]byte, pages*page)
	le.PutUint32(db, 'R'|'p'<<8|'m'<<16|'P'<<24)
	le.PutUint32(db[12:], uint32(pages))
	for i := 32; i+16 <= len(db); i += 16 {
		le.PutUint32(db[i:], 'S'|'l'<<8|'o'<<16|'t'<<24)
	}
	for i, blob := range blobs {
		start := len(db)
		head := make([]byte, 16)
		le.PutUint32(head, 'B'|'l'<<8|'b'<<16|'S'<<24)
		le.PutUint32(head[4:], uint32(i+1))
		le.PutUint32(head[12:], uint32(len(blob)))
		db = append(append(db, head...), blob...)
		for len(db)%16 != 0 {
			db = append(db, 0)
		}
		slot := db[32+16*i:]
		le.PutUint32(slot[4:], uint32(i+1))
		le.PutUint32(slot[8:], uint32(start/16))
		le.PutUint32(slot[12:], uint32((len(db)-start)/16))
	}
	return db
}

func TestRPMFieldCap(t *testing.T) {
	t.Parallel()
	suse := func(db []byte) v1.Image {
		return it.Image(t, it.FilesLayer(t, map[string]string{
			"etc/os-release":                   "ID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"\n",
			"usr/lib/sysimage/rpm/Packages.db": string(db),
		}))
	}
	// The crafted database is read correctly when the name is sane…
	inv := inspect(t, suse(ndb(rpmHeaderBlob("bash"))))
	if len(inv.Packages) != 1 || inv.Packages[0].Name != "bash" {
		t.Fatalf("packages = %v", inv.Packages)
	}
	// …and refused when the name is over the cap.
	err := inspectErr(t, suse(ndb(rpmHeaderBlob("bash"), rpmHeaderBlob(strings.Repeat("n", ospkg.MaxIdentitySize+1)))))
	if !errors.Is(err, ospkg.ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	wantErrParts(t, err, "usr/lib/sysimage/rpm/Packages.db", "package record 2", "tag 1000", "4097 bytes", "4096-byte cap")
}

// sparseApkLayer writes a layer whose lib/apk/db/installed holds one field
// of fieldSize bytes: "P:" and then NULs, written as a hole in a sparse
// file so that even 250 MiB take no time or disk.
func sparseApkLayer(t testing.TB, fieldSize int64) v1.Layer {
	t.Helper()
	p := filepath.Join(t.TempDir(), "layer.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for name, body := range map[string]string{"etc/alpine-release": "3.19.1\n", "etc/os-release": alpineOSRelease} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	tail := "\nV:1.0-r0\n"
	size := 2 + fieldSize + int64(len(tail))
	if err := tw.WriteHeader(&tar.Header{Name: "lib/apk/db/installed", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	// WriteHeader wrote the header to f: the body goes straight to the file, around the hole.
	if _, err := f.WriteString("P:"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(fieldSize, 1); err != nil {
		t.Fatal(err)
	}
	pad := (512 - size%512) % 512
	if _, err := f.Write(append([]byte(tail), make([]byte, pad+1024)...)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return it.FileLayer(t, p)
}

// peakInspect inspects img and returns the error and the peak heap in use.
func peakInspect(img v1.Image) (uint64, error) {
	runtime.GC()
	stop := heap.Sample()
	_, err := ospkg.Inspect(context.Background(), img)
	return stop(), err
}

// TestOversizedApkFieldHeap: an apk database with one 250 MiB field used
// to be accepted at 751 MiB of peak heap (the field was copied into the
// name and the ID, and then into the cache entry); now the file is refused
// from its tar header, and a field of 40 MiB in a file under the file cap
// is refused by the parser without being copied.
func TestOversizedApkFieldHeap(t *testing.T) {
	peak, err := peakInspect(it.Image(t, sparseApkLayer(t, 250<<20)))
	if !errors.Is(err, imagefs.ErrTooLarge) {
		t.Fatalf("err = %v, want imagefs.ErrTooLarge for a 250 MiB apk database", err)
	}
	wantErrParts(t, err, "lib/apk/db/installed", "67108864 byte limit")
	t.Logf("250 MiB field: peak heap %.1f MiB", float64(peak)/(1<<20))
	if peak > 64<<20 {
		t.Errorf("peak heap %d MiB reading a 250 MiB apk database, want under 64 MiB", peak>>20)
	}

	peak, err = peakInspect(it.Image(t, sparseApkLayer(t, 40<<20)))
	if !errors.Is(err, ospkg.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	wantErrParts(t, err, "lib/apk/db/installed", "line 1", "1048576-byte cap")
	t.Logf("40 MiB field: peak heap %.1f MiB", float64(peak)/(1<<20))
	// The file itself is held (40 MiB); the field is not copied (it was
	// three times, 121 MiB in all).
	if peak > 80<<20 {
		t.Errorf("peak heap %d MiB for a 40 MiB apk database, want under 80 MiB", peak>>20)
	}
}

// BenchmarkOversizedDatabases reports the peak heap of Inspect on crafted
// databases at or over their caps, kept on disk so that only what Inspect
// holds is measured:
//
//   - apk-250MiB-field: one 250 MiB field, refused from the tar header;
//   - apk-60MiB-field: a 60 MiB field under the file cap, refused by the parser;
//   - rpm-190MiB: an NDB database of 190 MiB (6,000 headers of 32 KiB), read
//     whole: the largest thing Inspect keeps in memory.
func BenchmarkOversizedDatabases(b *testing.B) {
	b.Run("apk-250MiB-field", func(b *testing.B) {
		runPeak(b, it.Image(b, sparseApkLayer(b, 250<<20)), false)
	})
	b.Run("apk-60MiB-field", func(b *testing.B) {
		runPeak(b, it.Image(b, sparseApkLayer(b, 60<<20)), false)
	})
	b.Run("rpm-190MiB", func(b *testing.B) {
		layer := writeLayer(b, b.TempDir(), "rpm", func(tw *tar.Writer) {
			for name, body := range map[string]string{"etc/os-release": "ID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"\n"} {
				writeEntry(b, tw, name, int64(len(body)), stringReader(body))
			}
			var blobs [][]byte
			for i := range 6000 {
				blob := rpmHeaderBlob("pkg" + strconv.Itoa(i))
				blobs = append(blobs, append(blob, make([]byte, 32<<10)...)) // unread data after the tags
			}
			db := ndbPages(blobs...)
			blobs = nil
			writeEntry(b, tw, "usr/lib/sysimage/rpm/Packages.db", int64(len(db)), bytes.NewReader(db))
		})
		runPeak(b, it.Image(b, layer), true)
	})
}

// runPeak inspects img b.N times and reports the peak heap in use.
func runPeak(b *testing.B, img v1.Image, wantOK bool) {
	var peak uint64
	for b.Loop() {
		p, err := peakInspect(img)
		if (err == nil) != wantOK {
			b.Fatalf("Inspect err = %v", err)
		}
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
