package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
	"github.com/patchloop/patchloop/internal/testutil/vulndbtest"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// TestSameFindingsAsTrivy scans the test images with Patchloop and with a
// Trivy binary (PATCHLOOP_TRIVY=/path/to/trivy) against the same database
// and registry, and compares the findings field by field. It is opt-in: it
// needs a Trivy build, which CI does not have.
//
//	GOEXPERIMENT=jsonv2 go install github.com/aquasecurity/trivy/cmd/trivy@v0.74.0
//	PATCHLOOP_TRIVY=$(go env GOPATH)/bin/trivy go test -run TestSameFindingsAsTrivy -v ./internal/scan/
func TestSameFindingsAsTrivy(t *testing.T) {
	trivy := os.Getenv("PATCHLOOP_TRIVY")
	if trivy == "" {
		t.Skip("set PATCHLOOP_TRIVY to a trivy binary to compare with Trivy")
	}
	host := registrytest.Start(t)
	cache := t.TempDir()
	d := database()
	d.Metadata.NextUpdate = time.Now().Add(24 * time.Hour)
	if err := vulndbtest.Write(filepath.Join(cache, "db"), d); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(context.Background(), filepath.Join(cache, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	images := map[string]v1.Image{
		"debian:12":        debianImage(t),
		"distroless:12":    distrolessImage(t),
		"ubuntu:22.04":     ubuntuImage(t),
		"alpine:3.19":      alpineImage(t, "x86_64"),
		"alpine-full:3.19": alpineWithOrigins(t),
		"rocky:9.3":        rockyImage(t),
		"ubi9:9.4":         ubi9Image(t),
		"ubi9-minimal:9.4": ubi9MinimalImage(t),
		"ubi8:8.9":         ubi8Image(t),
		"centos:8":         centos8Image(t),
	}
	for name, img := range images {
		t.Run(name, func(t *testing.T) {
			ref := host + "/" + name
			registrytest.Push(t, ref, img)
			for _, unfixed := range []bool{false, true} {
				args := []string{"image", "--quiet", "--cache-dir", cache, "--skip-db-update", "--skip-java-db-update",
					"--skip-check-update", "--image-src", "remote", "--insecure", "--pkg-types", "os", "--scanners", "vuln",
					"--format", "json"}
				if !unfixed {
					args = append(args, "--ignore-unfixed")
				}
				var out, stderr bytes.Buffer
				cmd := exec.Command(trivy, append(args, ref)...)
				cmd.Stdout, cmd.Stderr = &out, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("trivy: %v\n%s", err, stderr.String())
				}
				theirs, err := scan.ReadReport(&out)
				if err != nil {
					t.Fatalf("trivy report: %v\n%s", err, out.String())
				}
				ours, err := scan.Scan(context.Background(), img, db, scan.Options{IncludeUnfixed: unfixed, ArtifactName: ref})
				if err != nil {
					t.Fatal(err)
				}
				if ours.Metadata.OS == nil || theirs.Metadata.OS == nil || *ours.Metadata.OS != *theirs.Metadata.OS {
					t.Errorf("unfixed=%v: OS: ours %+v, Trivy's %+v", unfixed, ours.Metadata.OS, theirs.Metadata.OS)
				}
				a, b := comparable(ours), comparable(theirs)
				if !slices.Equal(a, b) {
					t.Errorf("unfixed=%v: findings differ\nours:\n%s\nTrivy's:\n%s", unfixed, show(a), show(b))
				} else {
					t.Logf("unfixed=%v: %d findings equal", unfixed, len(a))
				}
			}
		})
	}
}

// comparable reduces each finding to the fields both tools must agree on.
func comparable(r *scan.Report) []string {
	var out []string
	for _, v := range r.Vulnerabilities() {
		vendorIDs := v.VendorIDs
		if len(vendorIDs) == 0 {
			vendorIDs = nil
		}
		b, _ := json.Marshal([]any{v.VulnerabilityID, v.PkgID, v.PkgName, v.InstalledVersion, v.FixedVersion,
			v.Status, v.Severity, v.SeveritySource, v.PrimaryURL, v.Title, v.VendorSeverity, vendorIDs})
		out = append(out, string(b))
	}
	return out
}

func show(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}
