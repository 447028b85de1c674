package rpm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// archiveOf wraps an uncompressed cpio stream for files.
func archiveOf(data []byte, files []FileInfo) *Archive {
	v := &verifier{r: bytes.NewReader(data), p: &Package{Name: "t.rpm"}, size: -1}
	return newArchive("t.rpm", io.NopCloser(v), v, files)
}

// newc returns one newc entry, padded.
func newc(name string, mode uint32, data string) string {
	h := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%s\x00", 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0, name)
	for len(h)%4 != 0 {
		h += "\x00"
	}
	h += data
	for len(h)%4 != 0 {
		h += "\x00"
	}
	return h
}

func TestStrippedArchive(t *testing.T) {
	files := []FileInfo{
		{Path: "/usr/bin/big", Mode: ModeRegular | 0o755, Size: 5},
		{Path: "/usr/bin/link", Mode: ModeSymlink | 0o777, LinkTo: "big"},
		{Path: "/usr/share/d", Mode: ModeDir | 0o755},
	}
	// "07070X", the index, the content unpadded; entries start 4-aligned.
	stream := "07070X00000000" + "hello" + "\x00" + "07070X00000001" + "big" + "\x00\x00\x00" + "07070X00000002" + "\x00\x00" + newc("TRAILER!!!", 0, "")
	a := archiveOf([]byte(stream), files)
	var got []string
	for {
		e, err := a.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(a)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Path+"="+string(b))
	}
	if want := "usr/bin/big=hello usr/bin/link=big usr/share/d="; strings.Join(got, " ") != want {
		t.Errorf("entries %q, want %q", strings.Join(got, " "), want)
	}
}

func TestArchiveRefuses(t *testing.T) {
	files := []FileInfo{{Path: "/etc/a", Mode: ModeRegular | 0o644, Size: 1}, {Path: "/etc/g", Mode: ModeRegular, Flags: FileGhost}}
	for name, stream := range map[string]string{
		"path outside the root": newc("./../etc/a", ModeRegular|0o644, "x") + newc("TRAILER!!!", 0, ""),
		"not in the header":     newc("./etc/b", ModeRegular|0o644, "x") + newc("TRAILER!!!", 0, ""),
		"twice":                 newc("./etc/a", ModeRegular|0o644, "x") + newc("./etc/a", ModeRegular|0o644, "x") + newc("TRAILER!!!", 0, ""),
		"size differs":          newc("./etc/a", ModeRegular|0o644, "xy") + newc("TRAILER!!!", 0, ""),
		"ghost in the payload":  newc("./etc/a", ModeRegular|0o644, "x") + newc("./etc/g", ModeRegular, "") + newc("TRAILER!!!", 0, ""),
		"file missing":          newc("TRAILER!!!", 0, ""),
		"no trailer":            newc("./etc/a", ModeRegular|0o644, "x"),
		"bad magic":             "070707" + strings.Repeat("0", 200),
		"stripped index":        "07070X00000009",
		"huge name":             fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1<<30, 0),
	} {
		a := archiveOf([]byte(stream), files)
		var err error
		for err == nil {
			_, err = a.Next()
		}
		if errors.Is(err, io.EOF) {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "t.rpm") {
			t.Errorf("%s: error %v does not name the package", name, err)
		}
	}
}

// TestArchiveBoundsDataAfterTrailer: a payload inflating to gigabytes
// after its trailer is refused after a bounded read, not drained.
func TestArchiveBoundsDataAfterTrailer(t *testing.T) {
	files := []FileInfo{{Path: "/etc/a", Mode: ModeRegular | 0o644, Size: 1}}
	ok := newc("./etc/a", ModeRegular|0o644, "x") + newc("TRAILER!!!", 0, "")
	for name, tc := range map[string]struct {
		extra int
		fail  bool
	}{"padding": {512, false}, "a bomb": {8 << 20, true}} {
		var read countingReader
		read.r = strings.NewReader(ok + strings.Repeat("\x00", tc.extra))
		v := &verifier{r: &read, p: &Package{Name: "t.rpm"}, size: -1}
		a := newArchive("t.rpm", io.NopCloser(v), v, files)
		var err error
		for err == nil {
			_, err = a.Next()
		}
		if !tc.fail {
			if !errors.Is(err, io.EOF) {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, ErrPayloadTooLarge) || !strings.Contains(err.Error(), "t.rpm") {
			t.Errorf("%s: err %v, want ErrPayloadTooLarge naming the package", name, err)
		}
		if read.n > 1<<20 {
			t.Errorf("%s: read %d bytes of the payload, want the cap and a buffer", name, read.n)
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
