package reportfmt

import (
	"fmt"
	"io"
	"slices"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"

	"github.com/patchloop/patchloop/internal/scan"
)

// WriteCycloneDX writes the reports as one CycloneDX 1.6 JSON BOM. The
// metadata component is the image (type container); each OS package is a
// library component whose bom-ref and purl are its package URL, with
// the operating system as a component too; the image depends on the OS,
// the OS on its packages. With several reports (a multi-platform scan)
// each platform's image is a container component of its own, named with
// its platform, under the metadata component. The findings are the BOM's
// vulnerabilities, each affecting its package's bom-ref; ignored findings
// are left out.
func WriteCycloneDX(w io.Writer, reports []*scan.Report, tool Tool, now time.Time) error {
	bom := cdx.NewBOM()
	bom.SerialNumber = uuid.New().URN()
	root := cdx.Component{BOMRef: "image", Type: cdx.ComponentTypeContainer, Name: artifactName(reports)}
	bom.Metadata = &cdx.Metadata{
		Timestamp: now.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: tool.Name, Version: tool.Version,
		}}},
		Component: &root,
	}
	var components []cdx.Component
	var deps []cdx.Dependency
	var vulns []cdx.Vulnerability
	seen := map[string]bool{}
	var platformRefs []string
	for i, r := range reports {
		imageRef := root.BOMRef
		if len(reports) > 1 {
			imageRef = fmt.Sprintf("image-%d", i+1)
			platformRefs = append(platformRefs, imageRef)
			components = append(components, cdx.Component{
				BOMRef: imageRef, Type: cdx.ComponentTypeContainer,
				Name: r.ArtifactName, Version: r.Platform,
				Properties: &[]cdx.Property{{Name: "patchloop:platform", Value: r.Platform}, {Name: "patchloop:image-id", Value: r.Metadata.ImageID}},
			})
		} else if r.Metadata.ImageID != "" {
			root.Properties = &[]cdx.Property{{Name: "patchloop:image-id", Value: r.Metadata.ImageID}}
		}
		os := r.Metadata.OS
		if os == nil {
			deps = append(deps, cdx.Dependency{Ref: imageRef, Dependencies: &[]string{}})
			continue
		}
		osRef := fmt.Sprintf("%s-os-%s-%s", imageRef, os.Family, os.Name)
		components = append(components, cdx.Component{BOMRef: osRef, Type: cdx.ComponentTypeOS, Name: os.Family, Version: os.Name})
		deps = append(deps, cdx.Dependency{Ref: imageRef, Dependencies: &[]string{osRef}})
		var pkgRefs []string
		for _, p := range r.Packages {
			ref := packageRef(p)
			pkgRefs = append(pkgRefs, ref)
			if seen[ref] {
				continue // the same package in two platforms (arch "all")
			}
			seen[ref] = true
			c := cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: p.PURL}
			props := []cdx.Property{{Name: "patchloop:PkgID", Value: p.ID}}
			if p.SrcName != "" {
				props = append(props, cdx.Property{Name: "patchloop:SrcName", Value: p.SrcName}, cdx.Property{Name: "patchloop:SrcVersion", Value: p.SrcVersion})
			}
			c.Properties = &props
			components = append(components, c)
			deps = append(deps, cdx.Dependency{Ref: ref, Dependencies: &[]string{}})
		}
		slices.Sort(pkgRefs)
		pkgRefs = slices.Compact(pkgRefs)
		deps = append(deps, cdx.Dependency{Ref: osRef, Dependencies: &pkgRefs})
		for _, v := range r.Vulnerabilities() {
			vulns = append(vulns, cdxVulnerability(v))
		}
	}
	if len(platformRefs) > 0 {
		deps = append(deps, cdx.Dependency{Ref: root.BOMRef, Dependencies: &platformRefs})
	}
	bom.Components = &components
	bom.Dependencies = &deps
	if len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("write CycloneDX: %w", err)
	}
	return nil
}

// packageRef is a package's bom-ref: its package URL, else its ID.
func packageRef(p scan.Package) string {
	if p.PURL != "" {
		return p.PURL
	}
	return p.ID
}

// cdxVulnerability turns a finding into a CycloneDX vulnerability.
func cdxVulnerability(v scan.DetectedVulnerability) cdx.Vulnerability {
	out := cdx.Vulnerability{
		ID:          v.VulnerabilityID,
		Description: v.Description,
		Ratings:     &[]cdx.VulnerabilityRating{{Severity: cdxSeverity(v.Severity)}},
	}
	if v.DataSource != nil {
		out.Source = &cdx.Source{Name: v.DataSource.ID, URL: v.DataSource.URL}
	}
	if v.FixedVersion != "" {
		out.Recommendation = "Upgrade " + v.PkgName + " to version " + v.FixedVersion
	}
	ref := v.PkgIdentifier.PURL
	if ref == "" {
		ref = v.PkgID
	}
	out.Affects = &[]cdx.Affects{{Ref: ref, Range: &[]cdx.AffectedVersions{{Version: v.InstalledVersion, Status: cdx.VulnerabilityStatusAffected}}}}
	return out
}

// cdxSeverity maps Trivy's severity to CycloneDX's.
func cdxSeverity(s string) cdx.Severity {
	switch s {
	case "CRITICAL":
		return cdx.SeverityCritical
	case "HIGH":
		return cdx.SeverityHigh
	case "MEDIUM":
		return cdx.SeverityMedium
	case "LOW":
		return cdx.SeverityLow
	}
	return cdx.SeverityUnknown
}

// artifactName is the image the reports are of.
func artifactName(reports []*scan.Report) string {
	for _, r := range reports {
		if r.ArtifactName != "" {
			return r.ArtifactName
		}
	}
	return "image"
}
