// Package deb reads and writes Debian binary packages (.deb) and the deb822
// paragraph syntax shared by their control files and by APT's indexes.
//
// A .deb is an ar archive holding, in this order, debian-binary (the format
// version, "2.0"), control.tar[.gz|.xz|.zst] (package metadata and
// maintainer scripts) and data.tar[.gz|.xz|.zst|.bz2] (the files to unpack).
// Reader streams the data archive entry by entry after decoding the control
// archive; Write builds a package deterministically. Relationship fields
// (Depends, Breaks, Provides, …) are parsed by ParseRelations.
package deb
