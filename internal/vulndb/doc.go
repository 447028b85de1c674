// Package vulndb reads Trivy's vulnerability database (schema version 2)
// and keeps a local copy of it up to date.
//
// The database is the bbolt file trivy.db next to metadata.json, exactly as
// Trivy publishes it as an OCI artifact. Open gives read-only access: the
// advisories recorded for a package on one platform (a distribution
// release such as "debian 12"), the details of a vulnerability and the data
// source behind each platform. Platform maps an OS family and version to
// the platform bucket name Trivy uses, EOSL tells whether a release has
// reached its end of life by Trivy's own table, and Assess derives a
// finding's status, severity and primary URL the way Trivy's report does.
//
// Update downloads the artifact from a registry (Trivy's public mirrors by
// default, or the user's own mirror) and swaps it into place atomically;
// Status reports what is installed.
//
// Red Hat Enterprise Linux and CentOS are not matched: Trivy keys their
// advisories by CPE and content set rather than by release, so Platform
// reports them as unsupported. Their end-of-life dates are still known.
// See docs/formats-vulndb.md for the on-disk format.
package vulndb
