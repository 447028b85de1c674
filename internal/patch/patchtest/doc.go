// Package patchtest builds the inputs of patcher tests: Debian-like images
// whose packages are installed as dpkg would install them (files, status
// or status.d records, info lists, md5sums and conffiles), from the same
// package descriptions a test APT repository (internal/testutil/aptrepo)
// serves, and vulnerability databases with advisories for them.
package patchtest
