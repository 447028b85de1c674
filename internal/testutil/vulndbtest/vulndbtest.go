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
