package rpm_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/testutil/rpmbuild"
	_ "modernc.org/sqlite"
)

// readPackage reads a package's signature and main headers.
func readPackage(t *testing.T, path string) (sig, main *rpm.Header, sigRaw, mainRaw []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(b[96:]) // the lead
	sig, sigRaw, err = rpm.ReadHeader(r, true)
	if err != nil {
		t.Fatalf("signature header: %v", err)
	}
	main, mainRaw, err = rpm.ReadHeader(r, false)
	if err != nil {
		t.Fatalf("main header: %v", err)
	}
	return sig, main, sigRaw, mainRaw
}

func helloSpec() rpmbuild.Spec {
	return rpmbuild.Spec{
		Name: "hello", Version: "1.2", Release: "3", Epoch: 2,
		Provides: []string{"greeting = 1"}, Requires: []string{"/bin/sh"},
		Files:  map[string]string{"/usr/bin/hello": "hi\n", "/etc/hello.conf": "cfg\n"},
		Config: []string{"/etc/hello.conf"},
	}
}

func TestReadHeaderRoundTripsRealPackage(t *testing.T) {
	pkg := rpmbuild.Build(t, t.TempDir(), helloSpec())
	sig, main, sigRaw, mainRaw := readPackage(t, pkg)
	if sig.Region() != rpm.TagHeaderSignatures || main.Region() != rpm.TagHeaderImmutable {
		t.Fatalf("regions %d and %d", sig.Region(), main.Region())
	}
	for _, c := range []struct {
		h   *rpm.Header
		raw []byte
	}{{sig, sigRaw}, {main, mainRaw}} {
		got, err := c.h.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.raw) {
			t.Errorf("Marshal differs from the bytes read (%d vs %d bytes)", len(got), len(c.raw))
		}
	}
	if len(sigRaw)%8 == 0 && rpm.PadLen(len(sigRaw)) != 0 {
		t.Error("PadLen of aligned header")
	}

	// What rpm -qp prints agrees with what we read.
	rpmbuild.Need(t, "rpm")
	out, err := exec.Command("rpm", "-qp", "--nosignature", "--nodigest", "--qf",
		`%{NAME}|%{VERSION}|%{RELEASE}|%{EPOCH}|%{ARCH}|%{SIZE}|%{BUILDTIME}|[%{PROVIDENAME},]|[%{REQUIRENAME},]|[%{BASENAMES},]|[%{FILEMODES},]|%{SHA256HEADER}|%{SIGMD5}`, pkg).Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tag := range []rpm.Tag{rpm.TagName, rpm.TagVersion, rpm.TagRelease} {
		s, err := main.String(tag)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	for _, tag := range []rpm.Tag{rpm.TagEpoch} {
		v, err := main.Int32s(tag)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, itoa(int64(v[0])))
	}
	arch, _ := main.String(rpm.TagArch)
	got = append(got, arch)
	for _, tag := range []rpm.Tag{rpm.TagSize, rpm.TagBuildTime} {
		v, err := main.Int(tag)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, itoa(v))
	}
	for _, tag := range []rpm.Tag{rpm.TagProvideName, rpm.TagRequireName, rpm.TagBasenames} {
		ss, err := main.Strings(tag)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join(ss, ",")+",")
	}
	modes, err := main.Int16s(rpm.TagFileModes)
	if err != nil {
		t.Fatal(err)
	}
	var ms []string
	for _, m := range modes {
		ms = append(ms, itoa(int64(uint16(m)))+",")
	}
	got = append(got, strings.Join(ms, ""))
	sha, err := sig.String(rpm.SigTagSHA256)
	if err != nil {
		t.Fatal(err)
	}
	md5, err := sig.Bytes(rpm.SigTagMD5)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, sha, hex(md5))
	if diff := cmp.Diff(string(out), strings.Join(got, "|")); diff != "" {
		t.Errorf("rpm -qp and ReadHeader differ (-rpm +ours):\n%s", diff)
	}
	if _, err := main.String(rpm.TagPreIn); !errors.Is(err, rpm.ErrNoTag) {
		t.Errorf("missing tag: %v", err)
	}
}

func itoa(v int64) string {
	if v < 0 {
		return "-" + itoa(-v)
	}
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}

func hex(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

// TestParseBlobRoundTripsRPMDatabase installs a package with rpm and checks
// that the blob rpm stored parses and encodes back byte for byte, and that
// it is the package's region with rpm's install-time tags after it.
func TestParseBlobRoundTripsRPMDatabase(t *testing.T) {
	rpmbuild.Need(t, "rpm", "rpmbuild")
	dir := t.TempDir()
	pkg := rpmbuild.Build(t, dir, helloSpec())
	_, main, _, _ := readPackage(t, pkg)
	root := filepath.Join(dir, "root")
	rpmbuild.InitDB(t, root)
	rpmbuild.Install(t, root, pkg)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var blob []byte
	if err := db.QueryRowContext(context.Background(), "SELECT blob FROM Packages").Scan(&blob); err != nil {
		t.Fatal(err)
	}
	h, err := rpm.ParseBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Blob()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, blob) {
		t.Fatalf("Blob differs from rpm's blob (%d vs %d bytes)", len(again), len(blob))
	}
	if h.Region() != rpm.TagHeaderImmutable {
		t.Fatalf("region %d", h.Region())
	}
	mainBlob, _ := main.Blob()
	il := int(mainBlob[3]) | int(mainBlob[2])<<8
	if !bytes.Equal(blob[8:8+16*il], mainBlob[8:8+16*il]) {
		t.Error("the installed header's region index is not the package's")
	}
	if _, err := h.Int32s(rpm.TagInstallTime); err != nil {
		t.Error(err)
	}
	// Set a tag and encode: rpm reads the result.
	h.Set(rpm.StringEntry(rpm.TagInstallPrefix, "/x"))
	if _, err := h.Blob(); err != nil {
		t.Fatal(err)
	}
}

// TestNewHeaderAcceptedByRPM writes a package of a signature header and a
// main header built from scratch and has rpm -qp read it.
func TestNewHeaderAcceptedByRPM(t *testing.T) {
	rpmbuild.Need(t, "rpm")
	main := rpm.NewHeader(rpm.TagHeaderImmutable)
	main.Set(rpm.StringEntry(rpm.TagVersion, "4.5"))
	main.Set(rpm.StringEntry(rpm.TagName, "built"))
	main.Set(rpm.StringEntry(rpm.TagRelease, "6"))
	main.Set(rpm.I18NEntry(rpm.TagSummary, "built in Go"))
	main.Set(rpm.StringsEntry(rpm.TagHeaderI18NTable, []string{"C"}))
	main.Set(rpm.StringEntry(rpm.TagOS, "linux"))
	main.Set(rpm.StringEntry(rpm.TagArch, "noarch"))
	main.Set(rpm.Int32Entry(rpm.TagSize, 0))
	main.Set(rpm.StringsEntry(rpm.TagProvideName, []string{"built", "x(y)"}))
	main.Set(rpm.Int32Entry(rpm.TagProvideFlags, 8, 0))
	main.Set(rpm.StringsEntry(rpm.TagProvideVersion, []string{"4.5-6", ""}))
	main.Set(rpm.Int64Entry(rpm.TagLongSize, 1<<40))
	main.Set(rpm.Int16Entry(rpm.TagFileModes, -32348))
	main.Set(rpm.StringsEntry(rpm.TagBasenames, []string{"f"}))
	main.Set(rpm.StringsEntry(rpm.TagDirnames, []string{"/a/"}))
	main.Set(rpm.Int32Entry(rpm.TagDirIndexes, 0))
	main.Set(rpm.StringEntry(rpm.TagPayloadFormat, "cpio"))
	main.Set(rpm.StringEntry(rpm.TagPayloadCompressor, "gzip"))
	mainBytes, err := main.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, raw, err := rpm.ReadHeader(bytes.NewReader(mainBytes), false)
	if err != nil {
		t.Fatalf("our own header: %v", err)
	}
	if !bytes.Equal(raw, mainBytes) || again.Region() != rpm.TagHeaderImmutable {
		t.Fatal("ReadHeader of Marshal differs")
	}
	sig := rpm.NewHeader(rpm.TagHeaderSignatures)
	sig.Set(rpm.Int32Entry(rpm.SigTagSize, int32(len(mainBytes))))
	sigBytes, err := sig.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	lead := make([]byte, 96)
	copy(lead, []byte{0xed, 0xab, 0xee, 0xdb, 3, 0})
	copy(lead[10:], "built-4.5-6")
	lead[77] = 1 // os linux
	lead[79] = 5 // signature type: header-style
	file := append(lead, sigBytes...)
	file = append(file, make([]byte, rpm.PadLen(len(sigBytes)))...)
	file = append(file, mainBytes...)
	path := filepath.Join(t.TempDir(), "built.rpm")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("rpm", "-qp", "--nosignature", "--nodigest", "--qf", "%{NEVRA} %{LONGSIZE} [%{FILEMODES:perms} ][%{FILENAMES} ][%{PROVIDENEVRS} ]%{SUMMARY}", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("rpm -qp: %v: %s", err, stderr.String())
	}
	want := "built-4.5-6.noarch 1099511627776 -rw-r--r-- /a/f built = 4.5-6 x(y) built in Go"
	if string(out) != want {
		t.Errorf("rpm -qp = %q, want %q", out, want)
	}
}

func TestParseBlobRejectsBadHeaders(t *testing.T) {
	h := rpm.NewHeader(rpm.TagHeaderImmutable)
	h.Set(rpm.StringEntry(rpm.TagName, "n"))
	h.Set(rpm.Int32Entry(rpm.TagEpoch, 1))
	good, err := h.Blob()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rpm.ParseBlob(good); err != nil {
		t.Fatalf("good blob: %v", err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// index: 0 region, 1 name (offset 0), 2 epoch (offset 4); data: "n\0" pad2 epoch4 trailer16
	for name, b := range map[string][]byte{
		"short":            good[:7],
		"truncated":        good[:len(good)-1],
		"trailing":         append(bytes.Clone(good), 0),
		"no tags":          mut(func(b []byte) []byte { b[3] = 0; return b }),
		"huge il":          mut(func(b []byte) []byte { b[0] = 0xff; return b }),
		"bad type":         mut(func(b []byte) []byte { b[8+16+7] = 12; return b }),
		"null type":        mut(func(b []byte) []byte { b[8+16+7] = 0; return b }),
		"offset outside":   mut(func(b []byte) []byte { b[8+32+10] = 0x7f; return b }),
		"unaligned int":    mut(func(b []byte) []byte { b[8+32+11] = 2; return b }),
		"count too big":    mut(func(b []byte) []byte { b[8+32+14] = 0x7f; return b }),
		"string count":     mut(func(b []byte) []byte { b[8+16+15] = 2; return b }),
		"reserved tag":     mut(func(b []byte) []byte { b[8+16+2], b[8+16+3] = 0, 50; return b }),
		"bad trailer":      mut(func(b []byte) []byte { b[len(b)-16+3] = 62; return b }),
		"trailer ril":      mut(func(b []byte) []byte { b[len(b)-8+3] = 0; return b }),
		"region offset":    mut(func(b []byte) []byte { b[8+11] = 0x40; return b }),
		"strings past end": mut(func(b []byte) []byte { b[8+16+7], b[8+16+15] = 8, 5; return b }),
	} {
		if _, err := rpm.ParseBlob(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var fuzzed int
	for i := 8; i < len(good); i++ {
		for _, v := range []byte{0, 1, 0x7f, 0xff} {
			b := bytes.Clone(good)
			b[i] = v
			if h, err := rpm.ParseBlob(b); err == nil {
				fuzzed++
				if _, err := h.Blob(); err != nil {
					t.Errorf("byte %d=%d: parsed but does not encode: %v", i, v, err)
				}
			}
		}
	}
	_ = fuzzed
	if _, _, err := rpm.ReadHeader(bytes.NewReader(good), false); err == nil {
		t.Error("ReadHeader accepted a header without magic")
	}
}

func TestSetOutsideRegion(t *testing.T) {
	h := rpm.NewHeader(rpm.TagHeaderImmutable)
	h.Set(rpm.StringEntry(rpm.TagName, "n"))
	b, _ := h.Blob()
	p, err := rpm.ParseBlob(b)
	if err != nil {
		t.Fatal(err)
	}
	p.Set(rpm.Int32Entry(rpm.TagInstallTime, 5))
	p.Set(rpm.Int64Entry(rpm.TagLongSize, 7))
	p.Set(rpm.StringEntry(rpm.TagName, "m"))
	b2, err := p.Blob()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b2[8:8+32], b[8:8+32]) {
		t.Error("region index changed")
	}
	q, err := rpm.ParseBlob(b2)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := q.String(rpm.TagName); s != "m" {
		t.Errorf("name %q: the entry outside the region should win", s)
	}
	if v, _ := q.Int64s(rpm.TagLongSize); len(v) != 1 || v[0] != 7 {
		t.Errorf("longsize %v", v)
	}
	b3, _ := q.Blob()
	if !bytes.Equal(b2, b3) {
		t.Error("re-encoding a parsed blob with entries outside the region changed it")
	}
	if !q.Delete(rpm.TagInstallTime) || q.Delete(rpm.TagInstallTime) {
		t.Error("Delete")
	}
}

func TestReadHeaderChecksRegionKind(t *testing.T) {
	for _, c := range []struct {
		region rpm.Tag
		pad    bool
		ok     bool
	}{{rpm.TagHeaderImmutable, false, true}, {rpm.TagHeaderSignatures, true, true}, {rpm.TagHeaderSignatures, false, false}, {rpm.TagHeaderImmutable, true, false}} {
		h := rpm.NewHeader(c.region)
		h.Set(rpm.Int32Entry(rpm.SigTagSize, 1))
		b, err := h.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, make([]byte, rpm.PadLen(len(b)))...)
		if _, _, err := rpm.ReadHeader(bytes.NewReader(b), c.pad); (err == nil) != c.ok {
			t.Errorf("region %d pad %v: %v", c.region, c.pad, err)
		}
	}
}

// TestHeaderFilesRefusesInconsistentLists: file arrays that disagree in
// length, dirindexes out of range and paths that are not clean and
// absolute are errors, never a file list.
func TestHeaderFilesRefusesInconsistentLists(t *testing.T) {
	modeReg, modeExec := int16(-32768|0o644), int16(-32768|0o755) // 0o100644, 0o100755 as int16
	base := func(mut func(h *rpm.Header)) *rpm.Header {
		h := rpm.NewHeader(rpm.TagHeaderImmutable)
		h.Set(rpm.StringsEntry(rpm.TagBasenames, []string{"a", "b"}))
		h.Set(rpm.StringsEntry(rpm.TagDirnames, []string{"/etc/", "/usr/bin/"}))
		h.Set(rpm.Int32Entry(rpm.TagDirIndexes, 0, 1))
		h.Set(rpm.Int16Entry(rpm.TagFileModes, modeReg, modeExec))
		h.Set(rpm.Int32Entry(rpm.TagFileSizes, 1, 2))
		if mut != nil {
			mut(h)
		}
		return h
	}
	if fs, err := rpm.HeaderFiles(base(nil)); err != nil || len(fs) != 2 || fs[1].Path != "/usr/bin/b" {
		t.Fatalf("good header: %v %v", fs, err)
	}
	for name, mut := range map[string]func(h *rpm.Header){
		"modes shorter":         func(h *rpm.Header) { h.Set(rpm.Int16Entry(rpm.TagFileModes, modeReg)) },
		"sizes longer":          func(h *rpm.Header) { h.Set(rpm.Int32Entry(rpm.TagFileSizes, 1, 2, 3)) },
		"dirindexes shorter":    func(h *rpm.Header) { h.Set(rpm.Int32Entry(rpm.TagDirIndexes, 0)) },
		"dirindex out of range": func(h *rpm.Header) { h.Set(rpm.Int32Entry(rpm.TagDirIndexes, 0, 7)) },
		"negative dirindex":     func(h *rpm.Header) { h.Set(rpm.Int32Entry(rpm.TagDirIndexes, 0, -1)) },
		"dirname with ..":       func(h *rpm.Header) { h.Set(rpm.StringsEntry(rpm.TagDirnames, []string{"/etc/", "/usr/../../"})) },
		"relative dirname":      func(h *rpm.Header) { h.Set(rpm.StringsEntry(rpm.TagDirnames, []string{"/etc/", "usr/bin/"})) },
		"basename ..":           func(h *rpm.Header) { h.Set(rpm.StringsEntry(rpm.TagBasenames, []string{"a", ".."})) },
		"basename with /":       func(h *rpm.Header) { h.Set(rpm.StringsEntry(rpm.TagBasenames, []string{"a", "x/../../b"})) },
		"same path twice": func(h *rpm.Header) {
			h.Set(rpm.Int32Entry(rpm.TagDirIndexes, 0, 0))
			h.Set(rpm.StringsEntry(rpm.TagBasenames, []string{"a", "a"}))
		},
		"negative 64-bit size":    func(h *rpm.Header) { h.Set(rpm.Int64Entry(rpm.TagLongFileSizes, 1, -1)) },
		"sizes of the wrong type": func(h *rpm.Header) { h.Set(rpm.StringsEntry(rpm.TagFileSizes, []string{"1", "2"})) },
	} {
		if fs, err := rpm.HeaderFiles(base(mut)); err == nil {
			t.Errorf("%s: accepted %+v", name, fs)
		}
	}
}
