// Package vulndbtest writes small vulnerability databases in exactly
// Trivy's format (bbolt buckets and metadata.json), and packs and pushes
// them as Trivy's OCI artifact, for tests of the scanner, the patcher and
// vulndb itself.
package vulndbtest

import (
	"github.com/patchloop/patchloop/internal/vulndb"
)

// Database describes a database to write.
type Database struct {
	// Metadata is written as metadata.json; a zero Version becomes
	// vulndb.SchemaVersion.
	Metadata vulndb.Metadata
	// Platforms are the platform buckets, such as "debian 12".
	Platforms []Platform
	// Vulnerabilities go to the vulnerability bucket, keyed by their ID.
	Vulnerabilities []vulndb.Vulnerability
	// RedHat, when set, writes the Red Hat buckets.
	RedHat *RedHat
}

// Platform is one platform bucket and its data source.
type Platform struct {
	// Name is the bucket name, e.g. "debian 12" or "alpine 3.19".
	Name string
	// DataSource, when its ID is set, is recorded for the platform in the
	// data-source bucket.
	DataSource vulndb.DataSource
	// Packages maps a package name (the source package for Debian and
	// Ubuntu, the origin for Alpine) to its advisories. An advisory's
	// DataSource is ignored: the platform's applies.
	Packages map[string][]vulndb.Advisory
}

// RedHat is the Red Hat data of a database: the "Red Hat CPE" bucket
// (content sets and image build NVRs mapped to CPE indices, and the CPE
// names themselves) and the "Red Hat" bucket of CPE-keyed advisories.
type RedHat struct {
	// DataSource, when its ID is set, is recorded for the "Red Hat" bucket.
	DataSource vulndb.DataSource
	// Repositories maps a content set ("rhel-9-for-x86_64-baseos-rpms")
	// to CPE indices.
	Repositories map[string][]int
	// NVRs maps an image build "name-version-release-arch" to CPE indices.
	NVRs map[string][]int
	// CPEs are the CPE names by index (Trivy writes them for debugging only).
	CPEs []string
	// Packages maps a package name ("module:stream::name" for modular
	// packages) to its advisories.
	Packages map[string][]RedHatAdvisory
}

// RedHatAdvisory is one value of the "Red Hat" bucket.
type RedHatAdvisory struct {
	// Key is the RHSA ID of a fixed vulnerability, or the CVE ID of an
	// unfixed one.
	Key string
	// Entries are the statements per set of CPEs.
	Entries []RedHatEntry
}

// RedHatEntry is one statement of a Red Hat advisory.
type RedHatEntry struct {
	// FixedVersion is empty for unfixed vulnerabilities.
	FixedVersion string
	// CVEs are the vulnerabilities resolved, with Red Hat's severity.
	CVEs []RedHatCVE
	// Arches limits the entry to these architectures; empty means all.
	Arches []string
	// Status is the state of an unfixed vulnerability.
	Status vulndb.FixStatus
	// CPEs are the indices of the CPEs the entry concerns.
	CPEs []int
}

// RedHatCVE is one CVE of an entry.
type RedHatCVE struct {
	ID       string
	Severity vulndb.Severity
}
