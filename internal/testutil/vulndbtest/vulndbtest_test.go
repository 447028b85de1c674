package vulndbtest_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	bolt "go.etcd.io/bbolt"

	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

var built = time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)

func database() vulndbtest.Database {
	published := time.Date(2024, 1, 10, 15, 4, 5, 0, time.UTC)
	return vulndbtest.Database{
		Metadata: vulndb.Metadata{UpdatedAt: built, NextUpdate: built.Add(24 * time.Hour)},
		Platforms: []vulndbtest.Platform{
			{
				Name:       "debian 12",
				DataSource: vulndb.DataSource{ID: "debian", Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"},
				Packages: map[string][]vulndb.Advisory{"openssl": {
					{VulnerabilityID: "CVE-2024-0001", FixedVersion: "3.0.13-1~deb12u1", VendorIDs: []string{"DSA-5600-1"}},
					{VulnerabilityID: "CVE-2024-0002", Status: vulndb.FixStatusWillNotFix, Severity: vulndb.SeverityLow},
				}},
			},
			{
				Name: "rocky 9",
				Packages: map[string][]vulndb.Advisory{"openssl": {
					{VulnerabilityID: "CVE-2024-0001", FixedVersion: "1:3.0.7-25.el9_3", Arches: []string{"aarch64", "x86_64"}, VendorIDs: []string{"RLSA-2024:0310"}},
					{VulnerabilityID: "CVE-2024-0001", FixedVersion: "1:3.0.7-26.el9", Arches: []string{"ppc64le"}},
				}},
			},
		},
		Vulnerabilities: []vulndb.Vulnerability{{
			ID:             "CVE-2024-0001",
			Title:          "openssl: overread",
			Severity:       vulndb.SeverityHigh,
			CweIDs:         []string{"CWE-125"},
			VendorSeverity: map[string]vulndb.Severity{"nvd": vulndb.SeverityCritical, "debian": vulndb.SeverityMedium},
			CVSS:           map[string]vulndb.CVSS{"nvd": {V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", V3Score: 9.8}},
			References:     []string{"https://www.debian.org/security/2024/dsa-5600"},
			PublishedDate:  &published,
		}},
	}
}

// TestWriteUsesTrivysFormat reads the raw bytes back: the keys and values
// are those trivy-db writes (numeric Status and Severity in advisories,
// severity names in vulnerabilities, per-architecture entries for Rocky).
func TestWriteUsesTrivysFormat(t *testing.T) {
	dir := t.TempDir()
	if err := vulndbtest.Write(dir, database()); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"debian 12/openssl/CVE-2024-0001": `{"VendorIDs":["DSA-5600-1"],"FixedVersion":"3.0.13-1~deb12u1"}`,
		"debian 12/openssl/CVE-2024-0002": `{"Status":5,"Severity":1}`,
		"rocky 9/openssl/CVE-2024-0001": `{"FixedVersion":"1:3.0.7-25.el9_3","Entries":[` +
			`{"VendorIDs":["RLSA-2024:0310"],"Arches":["aarch64","x86_64"],"FixedVersion":"1:3.0.7-25.el9_3"},` +
			`{"Arches":["ppc64le"],"FixedVersion":"1:3.0.7-26.el9"}]}`,
		"vulnerability/CVE-2024-0001": `{"Title":"openssl: overread","Severity":"HIGH","CweIDs":["CWE-125"],` +
			`"VendorSeverity":{"debian":2,"nvd":4},` +
			`"CVSS":{"nvd":{"V3Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","V3Score":9.8}},` +
			`"References":["https://www.debian.org/security/2024/dsa-5600"],"PublishedDate":"2024-01-10T15:04:05Z"}`,
		"data-source/debian 12": `{"ID":"debian","Name":"Debian Security Tracker","URL":"https://salsa.debian.org/security-tracker-team/security-tracker"}`,
	}
	got := map[string]string{}
	b, err := bolt.Open(filepath.Join(dir, vulndb.DBFile), 0o444, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	err = b.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(root []byte, rb *bolt.Bucket) error {
			return walk(rb, string(root), got)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}

	meta, err := os.ReadFile(filepath.Join(dir, vulndb.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := `{"Version":2,"NextUpdate":"2025-03-02T06:00:00Z","UpdatedAt":"2025-03-01T06:00:00Z","DownloadedAt":"0001-01-01T00:00:00Z"}`
	if string(meta) != wantMeta {
		t.Errorf("metadata.json: got %s, want %s", meta, wantMeta)
	}
}

// walk collects every key under b as "path/key" → value.
func walk(b *bolt.Bucket, path string, out map[string]string) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return walk(b.Bucket(k), path+"/"+string(k), out)
		}
		out[path+"/"+string(k)] = string(v)
		return nil
	})
}

func TestWriteRejectsDuplicateFlatAdvisories(t *testing.T) {
	d := vulndbtest.Database{Platforms: []vulndbtest.Platform{{
		Name: "debian 12",
		Packages: map[string][]vulndb.Advisory{"openssl": {
			{VulnerabilityID: "CVE-2024-0001"}, {VulnerabilityID: "CVE-2024-0001"},
		}},
	}}}
	if err := vulndbtest.Write(t.TempDir(), d); err == nil {
		t.Error("two advisories for one vulnerability on a flat platform were accepted")
	}
}

// TestPushArtifact checks the pushed manifest against the one Trivy
// publishes and the layer against the database directory.
func TestPushArtifact(t *testing.T) {
	dir := t.TempDir()
	if err := vulndbtest.Write(dir, database()); err != nil {
		t.Fatal(err)
	}
	layer, err := vulndbtest.Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref := registrytest.Start(t) + "/aquasec/trivy-db:2"
	digest, err := vulndbtest.PushArtifact(t.Context(), ref, layer)
	if err != nil {
		t.Fatal(err)
	}

	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != digest {
		t.Errorf("digest: registry has %s, PushArtifact returned %s", desc.Digest, digest)
	}
	var m struct {
		MediaType string
		Config    struct {
			MediaType string
			Digest    string
			Size      int
		}
		Layers []struct {
			MediaType   string
			Annotations map[string]string
		}
	}
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" ||
		m.Config.MediaType != "application/vnd.aquasec.trivy.config.v1+json" ||
		m.Config.Digest != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" || m.Config.Size != 2 ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip" ||
		m.Layers[0].Annotations["org.opencontainers.image.title"] != "db.tar.gz" {
		t.Errorf("manifest is not Trivy's: %s", desc.Manifest)
	}

	// The layer holds exactly trivy.db and metadata.json, byte for byte.
	zr, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		onDisk, err := os.ReadFile(filepath.Join(dir, hdr.Name))
		if err != nil || !bytes.Equal(content, onDisk) {
			t.Errorf("%s differs from the file on disk (%v)", hdr.Name, err)
		}
	}
	if !reflect.DeepEqual(names, []string{"trivy.db", "metadata.json"}) {
		t.Errorf("layer entries: %v", names)
	}
}
