package vulndb_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// testRegistry is an in-process registry that counts the requests it serves.
type testRegistry struct {
	host     string
	requests atomic.Int64
}

func startRegistry(t *testing.T) *testRegistry {
	r := &testRegistry{}
	r.host = registrytest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.requests.Add(1)
			h.ServeHTTP(w, req)
		})
	})
	return r
}

// push packs the database in dbDir and pushes it as repo:2.
func (r *testRegistry) push(t *testing.T, repo, dbDir string) (ref, digest string) {
	t.Helper()
	layer, err := vulndbtest.Pack(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	return r.pushLayer(t, repo, layer)
}

// pushLayer pushes arbitrary layer bytes as a Trivy database artifact.
func (r *testRegistry) pushLayer(t *testing.T, repo string, layer []byte) (ref, digest string) {
	t.Helper()
	ref = r.host + "/" + repo + ":2"
	h, err := vulndbtest.PushArtifact(t.Context(), ref, layer)
	if err != nil {
		t.Fatal(err)
	}
	return ref, h.String()
}

// dbWithUpdatedAt writes the sample database built at the given time.
func dbWithUpdatedAt(t *testing.T, at time.Time) string {
	t.Helper()
	d := sample()
	d.Metadata.UpdatedAt = at
	d.Metadata.NextUpdate = at.Add(24 * time.Hour)
	dir := t.TempDir()
	write(t, dir, d)
	return dir
}

func clock(at time.Time) func() time.Time { return func() time.Time { return at } }

// leftovers lists what Update left in dir besides the database files.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		switch e.Name() {
		case vulndb.DBFile, vulndb.MetadataFile, vulndb.SourceFile:
		default:
			out = append(out, e.Name())
		}
	}
	return out
}

func TestUpdateDownloadsAndSkipsWhileFresh(t *testing.T) {
	reg := startRegistry(t)
	ref, digest := reg.push(t, "aquasec/trivy-db", writeSample(t))
	dir := filepath.Join(t.TempDir(), "db")
	now := updatedAt.Add(2 * time.Hour)

	res, err := vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: []string{ref}, Now: clock(now)})
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := vulndb.Metadata{Version: 2, UpdatedAt: updatedAt, NextUpdate: nextUpdate, DownloadedAt: now}
	want := vulndb.UpdateResult{Updated: true, Source: vulndb.Source{Repository: ref, Digest: digest}, Metadata: wantMeta}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("got  %+v\nwant %+v", res, want)
	}
	if l := leftovers(t, dir); l != nil {
		t.Errorf("left behind: %v", l)
	}

	// The downloaded database is usable and records when it was fetched.
	db, err := vulndb.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := db.Metadata(); !reflect.DeepEqual(got, wantMeta) {
		t.Errorf("metadata: got %+v, want %+v", got, wantMeta)
	}
	advs, err := db.Advisories(t.Context(), "debian 12", "openssl")
	if err != nil || len(advs) != 2 {
		t.Errorf("advisories: %v, %v", advs, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := vulndb.Status(t.Context(), dir, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, vulndb.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := vulndb.StatusReport{
		Dir: dir, Present: true, Size: fi.Size(), Metadata: wantMeta,
		Age: 3 * time.Hour, Stale: false, Source: vulndb.Source{Repository: ref, Digest: digest},
	}
	if !reflect.DeepEqual(st, wantStatus) {
		t.Errorf("status: got %+v\nwant %+v", st, wantStatus)
	}

	// While NextUpdate is ahead, nothing is asked of the registry.
	before := reg.requests.Load()
	res, err = vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: []string{ref}, Now: clock(now.Add(3 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated || !strings.Contains(res.Reason, "next update due at 2025-03-02T06:00:00Z") {
		t.Errorf("got %+v, want a skip until NextUpdate", res)
	}
	// Past NextUpdate but within an hour of the last download: still skipped.
	mustRewriteMetadata(t, dir, func(m *vulndb.Metadata) { m.DownloadedAt = nextUpdate.Add(-30 * time.Minute) })
	res, err = vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: []string{ref}, Now: clock(nextUpdate.Add(10 * time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated || !strings.Contains(res.Reason, "downloaded less than") {
		t.Errorf("got %+v, want a skip after a recent download", res)
	}
	if n := reg.requests.Load() - before; n != 0 {
		t.Errorf("skipped updates made %d registry requests", n)
	}
}

func mustRewriteMetadata(t *testing.T, dir string, change func(*vulndb.Metadata)) {
	t.Helper()
	m, err := vulndb.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	change(&m)
	d := sample()
	d.Metadata = m
	// Only metadata.json is rewritten; trivy.db stays.
	tmp := t.TempDir()
	write(t, tmp, d)
	b, err := os.ReadFile(filepath.Join(tmp, vulndb.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, vulndb.MetadataFile), string(b))
}

func TestUpdateRefreshesWhenStaleOrForced(t *testing.T) {
	reg := startRegistry(t)
	ref, _ := reg.push(t, "aquasec/trivy-db", writeSample(t))
	dir := t.TempDir()
	if _, err := vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: []string{ref}, Now: clock(updatedAt)}); err != nil {
		t.Fatal(err)
	}

	// A newer build is published under the same tag.
	newer := updatedAt.Add(6 * time.Hour)
	_, newDigest := reg.push(t, "aquasec/trivy-db", dbWithUpdatedAt(t, newer))

	// Forced: downloaded although NextUpdate is ahead.
	res, err := vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: []string{ref}, Force: true, Now: clock(updatedAt.Add(2 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated || !res.Metadata.UpdatedAt.Equal(newer) || res.Source.Digest != newDigest {
		t.Errorf("forced update: got %+v", res)
	}

	// Stale: NextUpdate has passed and the last download is over an hour old.
	newest := newer.Add(24 * time.Hour)
	_, newestDigest := reg.push(t, "aquasec/trivy-db", dbWithUpdatedAt(t, newest))
	res, err = vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: []string{ref}, Now: clock(newer.Add(25 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated || !res.Metadata.UpdatedAt.Equal(newest) || res.Source.Digest != newestDigest {
		t.Errorf("stale update: got %+v", res)
	}
	st, err := vulndb.Status(t.Context(), dir, newest.Add(25*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Stale || st.Age != 25*time.Hour || st.Source.Digest != newestDigest {
		t.Errorf("status: got %+v", st)
	}
}

func TestUpdateFallsBackToTheNextRepository(t *testing.T) {
	reg := startRegistry(t)
	good, digest := reg.push(t, "mirror/trivy-db", writeSample(t))
	down := registrytest.StartWith(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		})
	})
	if _, err := vulndbtest.PushLayer(t.Context(), reg.host+"/foreign/trivy-db:2", []byte("x"), "application/vnd.oci.image.layer.v1.tar+gzip"); err != nil {
		t.Fatal(err)
	}
	repos := []string{
		reg.host + "/missing/trivy-db:2", // not in the registry
		"127.0.0.1:1/closed/trivy-db:2",  // nothing listens there
		down + "/aquasec/trivy-db:2",     // answers 503
		reg.host + "/foreign/trivy-db:2", // another kind of artifact
		strings.TrimSuffix(good, ":2"),   // no tag: ":2" is implied
	}
	// One attempt per request keeps the test fast; retries are the
	// registry client's business.
	client := registry.New(registry.WithRetry(registry.RetryPolicy{Attempts: 1}))
	dir := t.TempDir()
	res, err := vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: repos, Registry: client, Now: clock(updatedAt)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated || res.Source != (vulndb.Source{Repository: repos[4], Digest: digest}) {
		t.Errorf("got %+v", res)
	}

	_, err = vulndb.Update(t.Context(), t.TempDir(), vulndb.UpdateOptions{Repositories: repos[:4], Registry: client, Now: clock(updatedAt)})
	if err == nil {
		t.Fatal("update from failing repositories succeeded")
	}
	for _, want := range []string{"every repository failed", "missing/trivy-db", "closed/trivy-db", "503", "application/vnd.oci.image.layer.v1.tar+gzip layer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// tarGz builds a gzipped tar from entries.
func tarGz(t *testing.T, entries ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(bytes.Repeat([]byte("A"), int(h.Size))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarGzOf packs files with the given contents.
func tarGzOf(t *testing.T, files map[string][]byte, order ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range order {
		data := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUpdateRejectsBadArtifactsAndKeepsTheInstalledDatabase(t *testing.T) {
	reg := startRegistry(t)
	goodRef, goodDigest := reg.push(t, "good/trivy-db", writeSample(t))
	parent := t.TempDir()
	dir := filepath.Join(parent, "db")
	if _, err := vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: []string{goodRef}, Now: clock(updatedAt)}); err != nil {
		t.Fatal(err)
	}
	installed := snapshot(t, dir)

	good := map[string][]byte{}
	for _, name := range []string{vulndb.DBFile, vulndb.MetadataFile} {
		b, err := os.ReadFile(filepath.Join(writeSample(t), name))
		if err != nil {
			t.Fatal(err)
		}
		good[name] = b
	}
	withDB := func(db []byte) map[string][]byte {
		return map[string][]byte{vulndb.DBFile: db, vulndb.MetadataFile: good[vulndb.MetadataFile]}
	}
	schema1 := sample()
	schema1.Metadata.Version = 1
	schema1Dir := t.TempDir()
	write(t, schema1Dir, schema1)
	schema1Layer, err := vulndbtest.Pack(schema1Dir)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		layer []byte
		opts  vulndb.UpdateOptions
		want  string
	}{
		{"parent-relative path", tarGz(t, &tar.Header{Name: "../evil", Size: 4}), vulndb.UpdateOptions{}, `"../evil" points outside`},
		{"nested parent path", tarGz(t, &tar.Header{Name: "x/../../trivy.db", Size: 4}), vulndb.UpdateOptions{}, "points outside"},
		{"absolute path", tarGz(t, &tar.Header{Name: "/tmp/trivy.db", Size: 4}), vulndb.UpdateOptions{}, "points outside"},
		{"symlink", tarGz(t, &tar.Header{Name: "trivy.db", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}), vulndb.UpdateOptions{}, "only plain files"},
		{"hard link", tarGz(t, &tar.Header{Name: "metadata.json", Typeflag: tar.TypeLink, Linkname: "trivy.db"}), vulndb.UpdateOptions{}, "only plain files"},
		{"duplicate entry", tarGzOf(t, good, vulndb.DBFile, vulndb.DBFile), vulndb.UpdateOptions{}, "appears twice"},
		{"not gzip", []byte("definitely not gzip"), vulndb.UpdateOptions{}, "read database archive"},
		{"truncated archive", tarGzOf(t, good, vulndb.DBFile, vulndb.MetadataFile)[:300], vulndb.UpdateOptions{}, "database archive"},
		{"missing metadata", tarGzOf(t, good, vulndb.DBFile), vulndb.UpdateOptions{}, "has no metadata.json"},
		{"db not bbolt", tarGzOf(t, withDB([]byte(strings.Repeat("junk", 4096))), vulndb.DBFile, vulndb.MetadataFile), vulndb.UpdateOptions{}, "not a valid database file"},
		{"other schema", schema1Layer, vulndb.UpdateOptions{}, "schema version 1"},
		{"over the size cap", tarGzOf(t, good, vulndb.DBFile, vulndb.MetadataFile), vulndb.UpdateOptions{MaxDBSize: 1024}, "over the 1024-byte limit"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, _ := reg.pushLayer(t, "bad"+string(rune('a'+i))+"/trivy-db", tt.layer)
			opts := tt.opts
			opts.Repositories = []string{ref}
			opts.Force = true
			opts.Now = clock(updatedAt.Add(48 * time.Hour))
			res, err := vulndb.Update(t.Context(), dir, opts)
			if err == nil {
				t.Fatalf("update succeeded: %+v", res)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if got := snapshot(t, dir); !reflect.DeepEqual(got, installed) {
				t.Error("the installed database changed")
			}
			if l := leftovers(t, dir); l != nil {
				t.Errorf("left behind: %v", l)
			}
			if _, err := os.Stat(filepath.Join(parent, "evil")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file was written outside the database directory: %v", err)
			}
		})
	}

	st, err := vulndb.Status(t.Context(), dir, updatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if st.Source.Digest != goodDigest {
		t.Errorf("source changed to %+v", st.Source)
	}
}

// snapshot reads every file of the database directory.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{vulndb.DBFile, vulndb.MetadataFile, vulndb.SourceFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	return out
}

func TestUpdateIgnoresExtraEntriesAndDotPrefixes(t *testing.T) {
	reg := startRegistry(t)
	src := writeSample(t)
	files := map[string][]byte{}
	for name, as := range map[string]string{vulndb.DBFile: "./trivy.db", vulndb.MetadataFile: "./metadata.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		files[as] = b
	}
	files["README"] = []byte("hello")
	ref, _ := reg.pushLayer(t, "repacked/trivy-db", tarGzOf(t, files, "README", "./trivy.db", "./metadata.json"))
	dir := t.TempDir()
	if _, err := vulndb.Update(t.Context(), dir, vulndb.UpdateOptions{Repositories: []string{ref}, Now: clock(updatedAt)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("README was extracted: %v", err)
	}
}

func TestUpdateStopsOnCanceledContext(t *testing.T) {
	reg := startRegistry(t)
	ref, _ := reg.push(t, "aquasec/trivy-db", writeSample(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dir := t.TempDir()
	_, err := vulndb.Update(ctx, dir, vulndb.UpdateOptions{Repositories: []string{ref, ref}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, vulndb.DBFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a database was installed: %v", err)
	}
}

func TestStatusWithoutDatabase(t *testing.T) {
	dir := t.TempDir()
	st, err := vulndb.Status(t.Context(), dir, updatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st, vulndb.StatusReport{Dir: dir}) {
		t.Errorf("got %+v", st)
	}
}

func TestUpdateInsecure(t *testing.T) {
	reg := startRegistry(t)
	ref, digest := reg.push(t, "aquasec/trivy-db", writeSample(t))
	client := registry.New(registry.WithInsecure(true))
	res, err := vulndb.Update(t.Context(), t.TempDir(), vulndb.UpdateOptions{Repositories: []string{ref}, Registry: client, Now: clock(updatedAt)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated || res.Source.Digest != digest {
		t.Errorf("got %+v", res)
	}
}
