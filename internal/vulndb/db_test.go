package vulndb_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

func TestAdvisories(t *testing.T) {
	db := openSample(t)
	tests := []struct {
		platform, pkg string
		want          []vulndb.Advisory
	}{
		{"debian 12", "openssl", []vulndb.Advisory{
			{VulnerabilityID: "CVE-2024-0001", FixedVersion: "3.0.13-1~deb12u1", VendorIDs: []string{"DSA-5600-1"}, DataSource: debianSource},
			{VulnerabilityID: "CVE-2024-0002", Status: vulndb.FixStatusWillNotFix, Severity: vulndb.SeverityLow, DataSource: debianSource},
		}},
		{"debian 12", "glibc", []vulndb.Advisory{
			{VulnerabilityID: "TEMP-0841856-B18BAF", Status: vulndb.FixStatusFixDeferred, DataSource: debianSource, Custom: json.RawMessage(`{"note":"x"}`)},
		}},
		{"alpine 3.19", "openssl", []vulndb.Advisory{
			{VulnerabilityID: "CVE-2024-0001", FixedVersion: "3.1.4-r5", DataSource: alpineSource},
		}},
		{"rocky 9", "openssl", []vulndb.Advisory{
			{VulnerabilityID: "CVE-2024-0001", FixedVersion: "1:3.0.7-25.el9_3", Arches: []string{"aarch64", "x86_64"}, VendorIDs: []string{"RLSA-2024:0310"}, DataSource: rockySource},
			{VulnerabilityID: "CVE-2024-0001", FixedVersion: "1:3.0.7-26.el9", Arches: []string{"ppc64le"}, VendorIDs: []string{"RLSA-2024:0400"}, DataSource: rockySource},
		}},
		{"ubuntu 22.04", "openssl", []vulndb.Advisory{{VulnerabilityID: "CVE-2024-0003"}}},
		{"debian 12", "no-such-package", nil},
		{"debian 99", "openssl", nil},
	}
	for _, tt := range tests {
		t.Run(tt.platform+"/"+tt.pkg, func(t *testing.T) {
			got, err := db.Advisories(t.Context(), tt.platform, tt.pkg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAdvisoryAppliesTo(t *testing.T) {
	db := openSample(t)
	advs, err := db.Advisories(t.Context(), "rocky 9", "openssl")
	if err != nil {
		t.Fatal(err)
	}
	fixedFor := func(arch string) []string {
		var out []string
		for _, a := range advs {
			if a.AppliesTo(arch) {
				out = append(out, a.FixedVersion)
			}
		}
		return out
	}
	if got := fixedFor("x86_64"); !reflect.DeepEqual(got, []string{"1:3.0.7-25.el9_3"}) {
		t.Errorf("x86_64: %v", got)
	}
	if got := fixedFor("ppc64le"); !reflect.DeepEqual(got, []string{"1:3.0.7-26.el9"}) {
		t.Errorf("ppc64le: %v", got)
	}
	if got := fixedFor("s390x"); got != nil {
		t.Errorf("s390x: %v", got)
	}
	if !(vulndb.Advisory{}).AppliesTo("s390x") {
		t.Error("an advisory without arches must apply to every arch")
	}
}

func TestVulnerability(t *testing.T) {
	db := openSample(t)
	got, err := db.Vulnerability(t.Context(), "CVE-2024-0001")
	if err != nil {
		t.Fatal(err)
	}
	want := sample().Vulnerabilities[0]
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	_, err = db.Vulnerability(t.Context(), "CVE-1999-9999")
	if !errors.Is(err, vulndb.ErrNotFound) || !strings.Contains(err.Error(), "CVE-1999-9999") {
		t.Errorf("missing ID: got %v, want ErrNotFound naming the ID", err)
	}
}

func TestDataSourceAndMetadata(t *testing.T) {
	db := openSample(t)
	if got, ok := db.DataSource("debian 12"); !ok || got != debianSource {
		t.Errorf("debian 12: got %+v, %v", got, ok)
	}
	if got, ok := db.DataSource("ubuntu 22.04"); ok {
		t.Errorf("ubuntu 22.04 has no data source, got %+v", got)
	}
	want := vulndb.Metadata{Version: 2, UpdatedAt: updatedAt, NextUpdate: nextUpdate}
	if got := db.Metadata(); !reflect.DeepEqual(got, want) {
		t.Errorf("metadata: got %+v, want %+v", got, want)
	}
}

func TestReadMetadata(t *testing.T) {
	dir := t.TempDir()
	// As Trivy writes it after a download.
	raw := `{"Version":2,"NextUpdate":"2025-03-02T06:00:00Z","UpdatedAt":"2025-03-01T06:00:00Z","DownloadedAt":"2025-03-01T07:30:15.123456789Z"}`
	if err := os.WriteFile(filepath.Join(dir, vulndb.MetadataFile), []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := vulndb.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := vulndb.Metadata{
		Version:      2,
		NextUpdate:   nextUpdate,
		UpdatedAt:    updatedAt,
		DownloadedAt: time.Date(2025, 3, 1, 7, 30, 15, 123456789, time.UTC),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestOpenRejectsUnusableDatabases(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"missing directory", func(t *testing.T, dir string) { _ = os.Remove(dir) }, "trivy.db does not exist"},
		{"empty directory", func(*testing.T, string) {}, "trivy.db does not exist"},
		{"missing metadata", func(t *testing.T, dir string) {
			write(t, dir, sample())
			remove(t, filepath.Join(dir, vulndb.MetadataFile))
		}, "metadata.json"},
		{"garbled metadata", func(t *testing.T, dir string) {
			write(t, dir, sample())
			writeFile(t, filepath.Join(dir, vulndb.MetadataFile), "{not json")
		}, "parse database metadata"},
		{"other schema", func(t *testing.T, dir string) {
			d := sample()
			d.Metadata.Version = 1
			write(t, dir, d)
		}, "schema version 1, want 2"},
		{"text file", func(t *testing.T, dir string) {
			write(t, dir, sample())
			writeFile(t, filepath.Join(dir, vulndb.DBFile), strings.Repeat("not a database\n", 2000))
		}, "is not a valid database file"},
		{"tiny file", func(t *testing.T, dir string) {
			write(t, dir, sample())
			writeFile(t, filepath.Join(dir, vulndb.DBFile), "x")
		}, "is not a valid database file"},
		{"bbolt without Trivy buckets", func(t *testing.T, dir string) {
			write(t, dir, sample())
			path := filepath.Join(dir, vulndb.DBFile)
			remove(t, path)
			b, err := bolt.Open(path, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
		}, "not a Trivy database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			db, err := vulndb.Open(t.Context(), dir)
			if err == nil {
				_ = db.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if !errors.Is(err, vulndb.ErrNoDatabase) || !strings.Contains(msg, tt.want) ||
				!strings.Contains(msg, "patchloop db update") || !strings.Contains(msg, "--db") {
				t.Errorf("got %q; want ErrNoDatabase mentioning %q, `patchloop db update` and --db", msg, tt.want)
			}
		})
	}
}

func TestAdvisoriesReportsBadValues(t *testing.T) {
	dir := writeSample(t)
	b, err := bolt.Open(filepath.Join(dir, vulndb.DBFile), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("debian 12")).Bucket([]byte("openssl")).Put([]byte("CVE-2024-9999"), []byte(`{"FixedVersion":`))
	})
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	_, err = db.Advisories(t.Context(), "debian 12", "openssl")
	if err == nil || !strings.Contains(err.Error(), "CVE-2024-9999") || !strings.Contains(err.Error(), `"debian 12"`) {
		t.Errorf("got %v, want an error naming the key and platform", err)
	}
}

func TestCanceledContext(t *testing.T) {
	db := openSample(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.Advisories(ctx, "debian 12", "openssl"); !errors.Is(err, context.Canceled) {
		t.Errorf("Advisories: got %v", err)
	}
	if _, err := db.Vulnerability(ctx, "CVE-2024-0001"); !errors.Is(err, context.Canceled) {
		t.Errorf("Vulnerability: got %v", err)
	}
	if _, err := vulndb.Open(ctx, db.Dir()); !errors.Is(err, context.Canceled) {
		t.Errorf("Open: got %v", err)
	}
}

func write(t *testing.T, dir string, d vulndbtest.Database) {
	t.Helper()
	if err := vulndbtest.Write(dir, d); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func TestOpenTimesOutWhileAWriterHoldsTheLock(t *testing.T) {
	dir := writeSample(t)
	writer, err := bolt.Open(filepath.Join(dir, vulndb.DBFile), 0o644, nil) // exclusive lock
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = writer.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	db, err := vulndb.Open(ctx, dir)
	if err == nil {
		_ = db.Close()
		t.Fatal("Open succeeded while the file was locked")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("got %v", err)
	}
}
