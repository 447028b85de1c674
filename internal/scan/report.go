package scan

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// SchemaVersion is the version of Trivy's JSON report format that Report
// follows.
const SchemaVersion = 2

// ArtifactTypeContainerImage is Trivy's artifact type for images.
const ArtifactTypeContainerImage = "container_image"

// ClassOSPkgs is Trivy's result class for OS-package findings.
const ClassOSPkgs = "os-pkgs"

// Report is one image's scan result in Trivy's JSON report format. Field
// names, order and omission rules are Trivy's, so Trivy-report consumers
// read it as they read Trivy's own output; fields Trivy writes that
// Patchloop has no use for (Trivy version, report and artifact IDs,
// fingerprints, package lists) are left out.
type Report struct {
	// SchemaVersion is always 2.
	SchemaVersion int `json:",omitempty"`
	// CreatedAt is when the scan ran.
	CreatedAt time.Time `json:",omitzero"`
	// ArtifactName is the image as the user named it.
	ArtifactName string `json:",omitempty"`
	// ArtifactType is "container_image".
	ArtifactType string `json:",omitempty"`
	// Metadata describes the image.
	Metadata Metadata `json:",omitzero"`
	// Results holds the OS-package result; empty when the image's OS is
	// unsupported.
	Results []Result `json:",omitempty"`
	// Warnings lists what the scan could not check, such as packages whose
	// installed version cannot be parsed. Trivy only logs these; the field
	// is Patchloop's, written last and only when not empty, so readers of
	// Trivy's format (which ignore unknown fields) read the report as
	// before.
	Warnings []Warning `json:",omitempty"`

	// Unsupported, when not empty, says why the image was not scanned
	// (Windows, no OS, an OS the database cannot match). It is not part of
	// Trivy's format and is not written to JSON; see Supported.
	Unsupported string `json:"-"`
	// Platform is the platform of the scanned image ("linux/amd64"), for
	// display; not written to JSON.
	Platform string `json:"-"`
	// Stats says how the scan went; not written to JSON.
	Stats Stats `json:"-"`
	// Packages are the OS packages found, for SBOM formats; not written
	// to JSON (Trivy writes them only with --list-all-pkgs).
	Packages []Package `json:"-"`
}

// Package is one installed OS package.
type Package struct {
	// ID is Trivy's PkgID ("name@version").
	ID string
	// Name is the binary package name.
	Name string
	// Version is the installed version, "[epoch:]version[-release]".
	Version string
	// Arch is the package's architecture, when recorded.
	Arch string
	// SrcName and SrcVersion name the source package.
	SrcName    string
	SrcVersion string
	// PURL is the package URL Trivy gives the package.
	PURL string
}

// Warning is something a scan could not check.
type Warning struct {
	// PkgName and InstalledVersion name the package at fault, if any.
	PkgName          string `json:",omitempty"`
	InstalledVersion string `json:",omitempty"`
	// Message says what was not checked and why, for people.
	Message string
}

// Supported reports whether the image's OS could be scanned. A report that
// is not supported has no results; Unsupported says why.
func (r *Report) Supported() bool { return r.Unsupported == "" }

// Vulnerabilities returns every finding of the report, result by result.
func (r *Report) Vulnerabilities() []DetectedVulnerability {
	var out []DetectedVulnerability
	for _, res := range r.Results {
		out = append(out, res.Vulnerabilities...)
	}
	return out
}

// Stats describes the work a scan did.
type Stats struct {
	// Packages is the number of OS packages found.
	Packages int
	// LayersRead is the number of layers opened; zero when the inventory
	// came from the cache.
	LayersRead int
	// FromCache is true when the inventory came from the cache.
	FromCache bool
}

// Metadata describes the scanned image, as in Trivy's report.
type Metadata struct {
	// OS is the detected OS; nil when none was found.
	OS *OS `json:",omitempty"`
	// ImageID is the digest of the image config.
	ImageID string `json:",omitempty"`
	// DiffIDs are the layers' uncompressed digests, bottom layer first.
	DiffIDs []string `json:",omitempty"`
	// RepoTags are "repository:tag" names of the image, when scanned by tag.
	RepoTags []string `json:",omitempty"`
	// RepoDigests are "repository@digest" names of what the reference
	// points at (the index, for a multi-platform image).
	RepoDigests []string `json:",omitempty"`
	// Reference is the image reference scanned.
	Reference string `json:",omitempty"`
	// ImageConfig is the image's config file.
	ImageConfig v1.ConfigFile `json:",omitzero"`
	// Layers lists the image's layers, bottom layer first.
	Layers []Layer `json:",omitzero"`
}

// OS is the detected operating system.
type OS struct {
	// Family is Trivy's family name ("debian", "alpine", …).
	Family string
	// Name is the release ("12.5", "3.19.1", …).
	Name string
	// EOSL is true once the release has reached its end of service life.
	EOSL bool `json:"EOSL,omitempty"`
}

// Layer identifies an image layer.
type Layer struct {
	// Size is the layer size in bytes, when known.
	Size int64 `json:",omitempty"`
	// Digest is the digest of the layer blob.
	Digest string `json:",omitempty"`
	// DiffID is the digest of the uncompressed layer.
	DiffID string `json:",omitempty"`
	// CreatedBy is the command that made the layer, when known.
	CreatedBy string `json:",omitempty"`
}

// Result holds the findings of one target of the report.
type Result struct {
	// Target is "<artifact> (<family> <release>)".
	Target string `json:"Target"`
	// Class is "os-pkgs".
	Class string `json:"Class,omitempty"`
	// Type is the OS family.
	Type string `json:"Type,omitempty"`
	// Vulnerabilities are the findings, sorted as Trivy sorts them.
	Vulnerabilities []DetectedVulnerability `json:"Vulnerabilities,omitempty"`
	// ModifiedFindings are the findings an ignore file set aside, under
	// the name Trivy gives them with --show-suppressed.
	ModifiedFindings []ModifiedFinding `json:"ExperimentalModifiedFindings,omitempty"`
}

// ModifiedFinding is a finding set aside by an ignore file, as Trivy
// writes it: Type "vulnerability", Status "ignored", the file as Source
// and the line as Statement.
type ModifiedFinding struct {
	Type      string
	Status    string
	Statement string
	Source    string
	// Finding is the finding as it would have been reported.
	Finding *DetectedVulnerability
}

// PkgIdentifier identifies a package; Patchloop fills PURL only.
type PkgIdentifier struct {
	// PURL is the package URL.
	PURL string `json:",omitempty"`
	// UID is Trivy's package hash; Patchloop leaves it empty.
	UID string `json:",omitempty"`
	// BOMRef is a CycloneDX reference; Patchloop leaves it empty.
	BOMRef string `json:",omitempty"`
}

// DataSource names where an advisory comes from.
type DataSource struct {
	// ID is the source ID ("debian", "alpine", …).
	ID string `json:",omitempty"`
	// Name is the source's human name.
	Name string `json:",omitempty"`
	// URL is the source's home page.
	URL string `json:",omitempty"`
	// BaseID is the source this one derives from, if any.
	BaseID string `json:",omitzero"`
}

// CVSS holds one source's CVSS vectors and scores.
type CVSS struct {
	// V2Vector is the CVSS v2 vector.
	V2Vector string `json:"V2Vector,omitempty"`
	// V3Vector is the CVSS v3.x vector.
	V3Vector string `json:"V3Vector,omitempty"`
	// V40Vector is the CVSS v4.0 vector.
	V40Vector string `json:"V40Vector,omitempty"`
	// V2Score is the CVSS v2 base score.
	V2Score float64 `json:"V2Score,omitempty"`
	// V3Score is the CVSS v3.x base score.
	V3Score float64 `json:"V3Score,omitempty"`
	// V40Score is the CVSS v4.0 base score.
	V40Score float64 `json:"V40Score,omitempty"`
}

// DetectedVulnerability is one finding: a vulnerability affecting one
// installed package. The vulnerability's details follow the package fields,
// as in Trivy's report.
type DetectedVulnerability struct {
	// VulnerabilityID is the CVE or vendor ID.
	VulnerabilityID string `json:",omitempty"`
	// VendorIDs are the vendor's advisory IDs (Debian and Red Hat, as Trivy).
	VendorIDs []string `json:",omitempty"`
	// PkgID is "name@version" (rpm: "name@version-release.arch").
	PkgID string `json:",omitempty"`
	// PkgName is the binary package name.
	PkgName string `json:",omitempty"`
	// PkgPath is empty for OS packages.
	PkgPath string `json:",omitempty"`
	// PkgIdentifier carries the package URL.
	PkgIdentifier PkgIdentifier `json:",omitzero"`
	// InstalledVersion is the installed version, "[epoch:]version[-release]".
	InstalledVersion string `json:",omitempty"`
	// FixedVersion is the first fixed version; empty when unfixed.
	FixedVersion string `json:",omitempty"`
	// Status is "fixed", "affected", "will_not_fix", ….
	Status string `json:",omitempty"`
	// Layer is the layer the package database was read from.
	Layer Layer `json:",omitzero"`
	// SeveritySource is the source ID Severity comes from.
	SeveritySource string `json:",omitempty"`
	// PrimaryURL is the page the finding links to.
	PrimaryURL string `json:",omitempty"`
	// DataSource is where the advisory comes from.
	DataSource *DataSource `json:",omitempty"`

	// Title is the vulnerability's one-line summary.
	Title string `json:",omitempty"`
	// Description is the long text.
	Description string `json:",omitempty"`
	// Severity is UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL.
	Severity string `json:",omitempty"`
	// CweIDs are weakness IDs.
	CweIDs []string `json:",omitempty"`
	// VendorSeverity is each source's severity as a number (0 UNKNOWN …
	// 4 CRITICAL).
	VendorSeverity map[string]int `json:",omitempty"`
	// CVSS is each source's CVSS data.
	CVSS map[string]CVSS `json:",omitempty"`
	// References are related URLs.
	References []string `json:",omitempty"`
	// PublishedDate is when the vulnerability was published.
	PublishedDate *time.Time `json:",omitempty"`
	// LastModifiedDate is when it was last modified.
	LastModifiedDate *time.Time `json:",omitempty"`
}
