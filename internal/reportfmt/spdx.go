package reportfmt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/patchloop/patchloop/internal/scan"
)

// SPDXNamespace is the prefix of the document namespaces written.
const SPDXNamespace = "https://github.com/patchloop/patchloop/spdx/"

// WriteSPDX writes the reports as one SPDX 2.3 JSON document. The document
// DESCRIBES the image (a package with purpose CONTAINER); the image
// CONTAINS its operating system (purpose OPERATING-SYSTEM) and its OS
// packages, each with a PACKAGE-MANAGER purl external reference and its
// source package in sourceInfo. With several reports each platform's
// image is a package of its own that the described image CONTAINS.
func WriteSPDX(w io.Writer, reports []*scan.Report, tool Tool, now time.Time) error {
	name := artifactName(reports)
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: SPDXNamespace + uuid.New().String(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: tool.Name + "-" + tool.Version}},
			Created:  now.UTC().Format(time.RFC3339),
		},
	}
	root := &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   "ContainerImage",
		PackageDownloadLocation: "NONE",
		PrimaryPackagePurpose:   "CONTAINER",
	}
	doc.Packages = append(doc.Packages, root)
	doc.Relationships = append(doc.Relationships, relationship("DOCUMENT", root.PackageSPDXIdentifier, "DESCRIBES"))
	ids := map[common.ElementID]bool{}
	for i, r := range reports {
		image := root
		if len(reports) > 1 {
			image = &spdx.Package{
				PackageName:             r.ArtifactName,
				PackageVersion:          r.Platform,
				PackageSPDXIdentifier:   common.ElementID(fmt.Sprintf("ContainerImage-%d", i+1)),
				PackageDownloadLocation: "NONE",
				PrimaryPackagePurpose:   "CONTAINER",
				PackageComment:          "platform " + r.Platform,
			}
			doc.Packages = append(doc.Packages, image)
			doc.Relationships = append(doc.Relationships, relationship(root.PackageSPDXIdentifier, image.PackageSPDXIdentifier, "CONTAINS"))
		}
		if r.Metadata.ImageID != "" {
			image.PackageChecksums = imageChecksum(r.Metadata.ImageID)
		}
		os := r.Metadata.OS
		if os == nil {
			continue
		}
		osPkg := &spdx.Package{
			PackageName:             os.Family,
			PackageVersion:          os.Name,
			PackageSPDXIdentifier:   elementID("OperatingSystem", string(image.PackageSPDXIdentifier), os.Family, os.Name),
			PackageDownloadLocation: "NONE",
			PrimaryPackagePurpose:   "OPERATING-SYSTEM",
		}
		doc.Packages = append(doc.Packages, osPkg)
		doc.Relationships = append(doc.Relationships, relationship(image.PackageSPDXIdentifier, osPkg.PackageSPDXIdentifier, "CONTAINS"))
		for _, p := range r.Packages {
			id := elementID("Package", packageRef(p))
			doc.Relationships = append(doc.Relationships, relationship(image.PackageSPDXIdentifier, id, "CONTAINS"))
			if ids[id] {
				continue
			}
			ids[id] = true
			pkg := &spdx.Package{
				PackageName:             p.Name,
				PackageVersion:          p.Version,
				PackageSPDXIdentifier:   id,
				PackageDownloadLocation: "NONE",
				PrimaryPackagePurpose:   "LIBRARY",
			}
			if p.SrcName != "" {
				pkg.PackageSourceInfo = fmt.Sprintf("built package from: %s %s", p.SrcName, p.SrcVersion)
			}
			if p.PURL != "" {
				pkg.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p.PURL}}
			}
			doc.Packages = append(doc.Packages, pkg)
		}
	}
	if err := spdxjson.Write(doc, w, spdxjson.Indent("  ")); err != nil {
		return fmt.Errorf("write SPDX: %w", err)
	}
	return nil
}

// relationship is "a TYPE b" between two elements of the document.
func relationship(a, b common.ElementID, typ string) *spdx.Relationship {
	return &spdx.Relationship{
		RefA:         common.MakeDocElementID("", string(a)),
		RefB:         common.MakeDocElementID("", string(b)),
		Relationship: typ,
	}
}

// elementID is an SPDX identifier ("Package-" + a hash of the parts):
// SPDX IDs allow only letters, digits, '.' and '-'.
func elementID(kind string, parts ...string) common.ElementID {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return common.ElementID(kind + "-" + hex.EncodeToString(h.Sum(nil))[:16])
}

// imageChecksum is the image config digest as an SPDX checksum.
func imageChecksum(id string) []common.Checksum {
	algo, value, ok := cutDigest(id)
	if !ok {
		return nil
	}
	return []common.Checksum{{Algorithm: algo, Value: value}}
}

// cutDigest splits "sha256:hex" into SPDX's algorithm name and the value.
func cutDigest(d string) (common.ChecksumAlgorithm, string, bool) {
	if v, ok := strings.CutPrefix(d, "sha256:"); ok {
		return common.SHA256, v, true
	}
	return "", "", false
}
