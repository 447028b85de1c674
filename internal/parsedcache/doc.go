// Package parsedcache keeps the parsed form of verified package indexes
// (APT Packages, APKINDEX) on disk and shares it in memory, so that each
// index is parsed once per digest its signed metadata names rather than
// on every patch.
//
// A Table is a file of opaque records, in the order they were added, and
// one or more sorted key → record indexes (a package's name; the names it
// provides). It is named by the SHA-256 of the verified raw index it was
// built from and protected by an HMAC-SHA256 whose key is kept in the
// cache directory: a table whose MAC, source digest or structure does not
// check out is rebuilt, never trusted on its name alone. A table is not
// held in memory: Open checks the file once and keeps a SHA-256 per 4 KiB
// block, and lookups read and check only the blocks they touch. A Cache
// shares the tables of a process: by URL while the digest stays the same,
// and by digest across concurrent loads.
package parsedcache
