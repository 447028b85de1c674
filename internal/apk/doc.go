// Package apk reads Alpine's package repositories and package files, as
// apk-tools does, for the apk patcher: signed APKINDEX.tar.gz indexes
// (verified against the RSA keys an image trusts), .apk files (trusted
// through the verified index: the SHA-1 of the control member must equal
// the index checksum and the SHA-256 of the data member the datahash of
// .PKGINFO), dependency expressions, the repositories an image uses
// (etc/apk/repositories, or its release's defaults) and the installed
// database, lib/apk/db/installed, read and written. Wolfi and Chainguard
// use the same formats.
package apk
