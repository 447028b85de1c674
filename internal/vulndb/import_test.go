package vulndb_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// TestImport loads the database from each local form and checks that the
// installed copy answers queries, records its source, and that the
// directory is left with nothing but the database files.
func TestImport(t *testing.T) {
	src := writeSample(t)
	layer, err := vulndbtest.Pack(src)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "db.tar.gz")
	if err := os.WriteFile(archive, layer, 0o644); err != nil {
		t.Fatal(err)
	}
	layoutDir := t.TempDir()
	manifestDigest, err := vulndbtest.WriteLayout(layoutDir, layer, "2")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct{ src, digest string }{
		"archive":   {archive, ""},
		"layout":    {layoutDir, manifestDigest.String()},
		"directory": {src, ""},
		"trivy.db":  {filepath.Join(src, vulndb.DBFile), ""},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			res, err := vulndb.Import(t.Context(), dir, c.src, vulndb.ImportOptions{Now: clock(at), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Updated || !strings.HasPrefix(res.Source.Repository, "file://") || !strings.HasPrefix(res.Source.Digest, "sha256:") {
				t.Fatalf("result %+v", res)
			}
			if c.digest != "" && res.Source.Digest != c.digest {
				t.Errorf("source digest %s, want the manifest's %s", res.Source.Digest, c.digest)
			}
			st, err := vulndb.Status(t.Context(), dir, at)
			if err != nil || !st.Present || !st.Metadata.DownloadedAt.Equal(at) || st.Source != res.Source {
				t.Fatalf("status %+v %v", st, err)
			}
			db, err := vulndb.Open(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Vulnerability(t.Context(), "CVE-2024-0002"); err != nil {
				t.Errorf("imported database: %v", err)
			}
			if left := leftovers(t, dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// TestImportRefuses checks that tampered or foreign input installs nothing
// and that each error names what is wrong.
func TestImportRefuses(t *testing.T) {
	src := writeSample(t)
	layer, err := vulndbtest.Pack(src)
	if err != nil {
		t.Fatal(err)
	}
	tampered := t.TempDir()
	if _, err := vulndbtest.WriteLayout(tampered, layer, "2"); err != nil {
		t.Fatal(err)
	}
	// Change one byte of the layer's gzip trailer (its CRC), which the
	// archive reader stops before: only the digest can tell.
	blob := filepath.Join(tampered, "blobs", "sha256", layerDigest(t, layer))
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-5] ^= 0xff
	if err := os.WriteFile(blob, data, 0o644); err != nil {
		t.Fatal(err)
	}
	twoDir := t.TempDir()
	if _, err := vulndbtest.WriteLayout(twoDir, layer, "2"); err != nil {
		t.Fatal(err)
	}
	noMeta := t.TempDir()
	db, _ := os.ReadFile(filepath.Join(src, vulndb.DBFile))
	writeFile(t, filepath.Join(noMeta, vulndb.DBFile), string(db))
	text := filepath.Join(t.TempDir(), "notes.txt")
	writeFile(t, text, "hello")
	cases := map[string]struct {
		src, ref, want string
	}{
		"tampered layer":  {tampered, "", "database layer of"},
		"unknown ref":     {twoDir, "3", `no manifest named "3"`},
		"no metadata":     {noMeta, "", "has no metadata.json"},
		"not a database":  {text, "", "not a gzipped tar"},
		"missing":         {filepath.Join(t.TempDir(), "nope"), "", "want a db.tar.gz"},
		"empty directory": {t.TempDir(), "", "neither an OCI layout"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			_, err := vulndb.Import(t.Context(), dir, c.src, vulndb.ImportOptions{Ref: c.ref, Logger: slog.New(slog.DiscardHandler)})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.src) {
				t.Fatalf("got %v, want an error naming %s and saying %q", err, c.src, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, vulndb.DBFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a database was installed: %v", err)
			}
			if left := leftovers(t, dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// layerDigest is the hex sha256 of layer.
func layerDigest(t *testing.T, layer []byte) string {
	t.Helper()
	h, _, err := v1.SHA256(bytes.NewReader(layer))
	if err != nil {
		t.Fatal(err)
	}
	return h.Hex
}
