package reportfmt_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/patchloop/patchloop/internal/reportfmt"
	"github.com/patchloop/patchloop/internal/scan"
)

var tool = reportfmt.Tool{Name: "patchloop", Version: "v1.2.3"}

// testReport is a Debian image with two packages, one finding and one
// finding an ignore file set aside.
func testReport(name, arch string) *scan.Report {
	ssl := scan.Package{ID: "libssl3@3.0.11-1~deb12u2", Name: "libssl3", Version: "3.0.11-1~deb12u2", Arch: arch, SrcName: "openssl", SrcVersion: "3.0.11-1~deb12u2",
		PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=" + arch + "&distro=debian-12.5"}
	zlib := scan.Package{ID: "zlib1g@1:1.2.13.dfsg-1", Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Arch: arch, SrcName: "zlib", SrcVersion: "1:1.2.13.dfsg-1",
		PURL: "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=" + arch + "&distro=debian-12.5&epoch=1"}
	ignored := scan.DetectedVulnerability{VulnerabilityID: "CVE-2023-45853", PkgName: "zlib1g", InstalledVersion: zlib.Version, Severity: "CRITICAL",
		PkgIdentifier: scan.PkgIdentifier{PURL: zlib.PURL}}
	return &scan.Report{
		SchemaVersion: 2,
		ArtifactName:  name,
		ArtifactType:  scan.ArtifactTypeContainerImage,
		Platform:      "linux/" + arch,
		Metadata: scan.Metadata{
			OS:          &scan.OS{Family: "debian", Name: "12.5"},
			ImageID:     "sha256:" + strings.Repeat("ab", 32),
			ImageConfig: v1.ConfigFile{OS: "linux", Architecture: arch},
		},
		Packages: []scan.Package{ssl, zlib},
		Results: []scan.Result{{
			Target: name + " (debian 12.5)", Class: scan.ClassOSPkgs, Type: "debian",
			Vulnerabilities: []scan.DetectedVulnerability{{
				VulnerabilityID: "CVE-2024-0727", PkgID: ssl.ID, PkgName: "libssl3", PkgIdentifier: scan.PkgIdentifier{PURL: ssl.PURL},
				InstalledVersion: ssl.Version, FixedVersion: "3.0.13-1~deb12u1", Status: "fixed", Severity: "MEDIUM",
				Title: "openssl: denial of service", Description: "A crafted PKCS12 file crashes OpenSSL.",
				PrimaryURL: "https://avd.aquasec.com/nvd/cve-2024-0727",
			}},
			ModifiedFindings: []scan.ModifiedFinding{{Type: "vulnerability", Status: "ignored", Statement: ".trivyignore line 2", Source: ".trivyignore", Finding: &ignored}},
		}},
	}
}

// The SARIF 2.1.0 schema is not on this machine (no module ships it and
// nothing can be downloaded), so the log is decoded into strict structs
// that mirror the schema's objects for the properties Patchloop writes:
// an unknown (misspelled) property fails the decode, and the schema's
// required properties and enumerations are checked below.
type (
	strictLog struct {
		Schema  string      `json:"$schema"`
		Version string      `json:"version"`
		Runs    []strictRun `json:"runs"`
	}
	strictRun struct {
		Tool    *strictTool    `json:"tool"`
		Results []strictResult `json:"results"`
	}
	strictTool struct {
		Driver *strictComponent `json:"driver"`
	}
	strictComponent struct {
		Name           string       `json:"name"`
		InformationURI string       `json:"informationUri"`
		Version        string       `json:"version"`
		Rules          []strictRule `json:"rules"`
	}
	strictRule struct {
		ID                   string                  `json:"id"`
		Name                 string                  `json:"name"`
		ShortDescription     *strictMessage          `json:"shortDescription"`
		FullDescription      *strictMessage          `json:"fullDescription"`
		DefaultConfiguration *struct{ Level string } `json:"defaultConfiguration"`
		HelpURI              string                  `json:"helpUri"`
		Help                 *strictMessage          `json:"help"`
		Properties           map[string]any          `json:"properties"`
	}
	strictMessage struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown"`
	}
	strictResult struct {
		RuleID       string           `json:"ruleId"`
		RuleIndex    *int             `json:"ruleIndex"`
		Level        string           `json:"level"`
		Message      *strictMessage   `json:"message"`
		Locations    []strictLocation `json:"locations"`
		Suppressions []struct {
			Kind          string `json:"kind"`
			Justification string `json:"justification"`
		} `json:"suppressions"`
	}
	strictLocation struct {
		PhysicalLocation *struct {
			ArtifactLocation *struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region *struct {
				StartLine   int `json:"startLine"`
				StartColumn int `json:"startColumn"`
				EndLine     int `json:"endLine"`
				EndColumn   int `json:"endColumn"`
			} `json:"region"`
		} `json:"physicalLocation"`
		Message *strictMessage `json:"message"`
	}
)

func TestWriteSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := reportfmt.WriteSARIF(&b, []*scan.Report{testReport("localhost:5000/app:1", "amd64")}, tool); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	var log strictLog
	if err := dec.Decode(&log); err != nil {
		t.Fatalf("not SARIF as the strict structs read it: %v", err)
	}
	if log.Version != "2.1.0" || log.Schema != reportfmt.SARIFSchema || len(log.Runs) != 1 {
		t.Fatalf("log header: %+v", log)
	}
	run := log.Runs[0]
	if run.Tool == nil || run.Tool.Driver == nil || run.Tool.Driver.Name != "patchloop" {
		t.Fatalf("run.tool.driver.name is required: %+v", run.Tool)
	}
	var ruleIDs []string
	for _, r := range run.Tool.Driver.Rules {
		ruleIDs = append(ruleIDs, r.ID)
		if r.Properties["security-severity"] == nil {
			t.Errorf("rule %s has no security-severity", r.ID)
		}
	}
	if d := cmp.Diff([]string{"CVE-2024-0727", "CVE-2023-45853"}, ruleIDs); d != "" {
		t.Fatalf("rule ids (-want +got):\n%s", d)
	}
	type got struct {
		RuleID, Level, URI string
		Suppressed         bool
	}
	var results []got
	for _, r := range run.Results {
		if r.Message == nil || r.Message.Text == "" {
			t.Fatalf("result.message.text is required: %+v", r)
		}
		if r.RuleIndex == nil || run.Tool.Driver.Rules[*r.RuleIndex].ID != r.RuleID {
			t.Fatalf("ruleIndex does not point at ruleId %s", r.RuleID)
		}
		if !slices.Contains([]string{"none", "note", "warning", "error"}, r.Level) {
			t.Fatalf("level %q is not in the schema's enumeration", r.Level)
		}
		if len(r.Locations) != 1 || r.Locations[0].PhysicalLocation == nil || r.Locations[0].PhysicalLocation.ArtifactLocation == nil ||
			r.Locations[0].PhysicalLocation.Region == nil || r.Locations[0].PhysicalLocation.Region.StartLine < 1 {
			t.Fatalf("location: %+v", r.Locations)
		}
		for _, s := range r.Suppressions {
			if !slices.Contains([]string{"inSource", "external"}, s.Kind) {
				t.Fatalf("suppression kind %q", s.Kind)
			}
		}
		results = append(results, got{r.RuleID, r.Level, r.Locations[0].PhysicalLocation.ArtifactLocation.URI, len(r.Suppressions) > 0})
	}
	want := []got{
		{"CVE-2024-0727", "warning", "localhost:5000/app:1", false},
		{"CVE-2023-45853", "error", "localhost:5000/app:1", true},
	}
	if d := cmp.Diff(want, results); d != "" {
		t.Fatalf("results (-want +got):\n%s", d)
	}
	if !strings.Contains(run.Results[0].Message.Text, "Package: libssl3") || !strings.Contains(run.Results[0].Message.Text, "Fixed Version: 3.0.13-1~deb12u1") {
		t.Errorf("message: %q", run.Results[0].Message.Text)
	}
}

func TestWriteCycloneDX(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		reports []*scan.Report
		images  int
	}{
		{"one platform", []*scan.Report{testReport("localhost:5000/app:1", "amd64")}, 0},
		{"two platforms", []*scan.Report{testReport("localhost:5000/app:1", "amd64"), testReport("localhost:5000/app:1", "arm64")}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := reportfmt.WriteCycloneDX(&b, tc.reports, tool, now); err != nil {
				t.Fatal(err)
			}
			var bom cdx.BOM
			if err := cdx.NewBOMDecoder(&b, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
				t.Fatalf("cyclonedx-go cannot read it: %v", err)
			}
			if bom.SpecVersion != cdx.SpecVersion1_6 || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
				t.Fatalf("spec %v serial %q", bom.SpecVersion, bom.SerialNumber)
			}
			if bom.Metadata == nil || bom.Metadata.Component == nil || bom.Metadata.Component.Type != cdx.ComponentTypeContainer ||
				bom.Metadata.Component.Name != "localhost:5000/app:1" || bom.Metadata.Timestamp != "2026-11-30T12:00:00Z" {
				t.Fatalf("metadata: %+v", bom.Metadata)
			}
			var purls []string
			containers := 0
			for _, c := range *bom.Components {
				switch c.Type {
				case cdx.ComponentTypeLibrary:
					if c.PackageURL != c.BOMRef {
						t.Errorf("%s: bom-ref %q is not its purl %q", c.Name, c.BOMRef, c.PackageURL)
					}
					purls = append(purls, c.PackageURL)
				case cdx.ComponentTypeContainer:
					containers++
				}
			}
			var want []string
			for _, r := range tc.reports {
				for _, p := range r.Packages {
					want = append(want, p.PURL)
				}
			}
			if d := cmp.Diff(want, purls); d != "" {
				t.Fatalf("package URLs (-want +got):\n%s", d)
			}
			if containers != tc.images {
				t.Fatalf("%d platform images, want %d", containers, tc.images)
			}
			if bom.Vulnerabilities == nil || len(*bom.Vulnerabilities) != len(tc.reports) || (*bom.Vulnerabilities)[0].ID != "CVE-2024-0727" {
				t.Fatalf("vulnerabilities (ignored ones left out): %+v", bom.Vulnerabilities)
			}
			if ref := (*(*bom.Vulnerabilities)[0].Affects)[0].Ref; ref != tc.reports[0].Packages[0].PURL {
				t.Fatalf("affects %q", ref)
			}
		})
	}
}

func TestWriteSPDX(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	reports := []*scan.Report{testReport("localhost:5000/app:1", "amd64"), testReport("localhost:5000/app:1", "arm64")}
	if err := reportfmt.WriteSPDX(&b, reports, tool, now); err != nil {
		t.Fatal(err)
	}
	doc, err := spdxjson.Read(&b)
	if err != nil {
		t.Fatalf("tools-golang cannot read it: %v", err)
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Fatalf("tools-golang finds it invalid: %v", err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || !strings.HasPrefix(doc.DocumentNamespace, reportfmt.SPDXNamespace) ||
		doc.CreationInfo.Created != "2026-11-30T12:00:00Z" || doc.CreationInfo.Creators[0].Creator != "patchloop-v1.2.3" {
		t.Fatalf("document: %+v %+v", doc, doc.CreationInfo)
	}
	var purls []string
	purpose := map[string]int{}
	for _, p := range doc.Packages {
		purpose[p.PrimaryPackagePurpose]++
		for _, ref := range p.PackageExternalReferences {
			if ref.Category == "PACKAGE-MANAGER" && ref.RefType == "purl" {
				purls = append(purls, ref.Locator)
			}
		}
	}
	var want []string
	for _, r := range reports {
		for _, p := range r.Packages {
			want = append(want, p.PURL)
		}
	}
	if d := cmp.Diff(want, purls); d != "" {
		t.Fatalf("package URLs (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int{"CONTAINER": 3, "OPERATING-SYSTEM": 2, "LIBRARY": 4}, purpose); d != "" {
		t.Fatalf("packages by purpose (-want +got):\n%s", d)
	}
	describes := 0
	for _, r := range doc.Relationships {
		if r.Relationship == "DESCRIBES" && r.RefA.ElementRefID == "DOCUMENT" && r.RefB.ElementRefID == "ContainerImage" {
			describes++
		}
	}
	if describes != 1 {
		t.Fatalf("the document does not describe the image: %+v", doc.Relationships)
	}
}
