package imagetest

import (
	"archive/tar"
	"bytes"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"
)

// Tar returns an uncompressed tar archive of the entries, in order.
func Tar(tb testing.TB, entries ...Entry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Linkname, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		lie := e.Size != 0 && e.Size != h.Size
		if lie {
			h.Size = e.Size
		}
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatalf("imagetest: tar header %q: %v", e.Name, err)
		}
		if _, err := tw.Write([]byte(e.Body)); err != nil && !lie {
			tb.Fatalf("imagetest: tar body %q: %v", e.Name, err)
		}
		if lie {
			// The header promised a different size: stop here, leaving a
			// broken archive as intended.
			return buf.Bytes()
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatalf("imagetest: close tar: %v", err)
	}
	return buf.Bytes()
}

// FileEntries turns a map of path to content into regular file entries,
// preceded by entries for their parent directories, sorted by name as image
// builders write them.
func FileEntries(files map[string]string) []Entry {
	dirs := map[string]bool{}
	for name := range files {
		for d := path.Dir(strings.TrimSuffix(name, "/")); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var out []Entry
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		out = append(out, Dir(d+"/"))
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		out = append(out, File(name, files[name]))
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		return strings.Compare(strings.TrimSuffix(a.Name, "/"), strings.TrimSuffix(b.Name, "/"))
	})
	return out
}
