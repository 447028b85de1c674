// Package apt is a client for Debian and Ubuntu package repositories.
//
// It reads sources.list and deb822 .sources files (or builds the default
// sources of a distribution release), fetches each suite's InRelease (or
// Release and Release.gpg) and verifies its OpenPGP signature against a
// keyring, then fetches the Packages indexes the signed Release lists and
// checks their size and SHA256 before parsing them. Downloads are cached
// on disk: InRelease is revalidated with ETag and If-Modified-Since, and
// indexes and .deb files are stored by their SHA256, so a file is fetched
// once for as long as the signed Release names the same content. All
// methods of Client are safe for concurrent use, and concurrent requests
// for the same file share one download.
package apt
