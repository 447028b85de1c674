// Package scan finds the OS-package vulnerabilities of a container image the
// way Trivy does, and reports them in Trivy's JSON format (schema version 2)
// so that Copa and other Trivy-report consumers can read Patchloop's reports
// unchanged.
//
// Scan takes one image: ospkg inventories its OS and installed packages,
// each package is matched against the vulnerability database with the
// rules of its distribution's Trivy detector (which package name keys the
// advisories, which version is compared and with which version ordering),
// the findings get their details, severity and status as Trivy's report
// fills them, and they are filtered, deduplicated and sorted as Trivy does.
// Images whose OS cannot be scanned (Windows, no OS, a distribution the
// database does not key by package) give a report with no results and a
// reason (Report.Unsupported), not an error.
//
// Resolve turns a command-line image argument (a registry reference or an
// OCI layout directory) into the images to scan: one per Linux platform of
// a multi-platform index, or the one platform asked for.
package scan
