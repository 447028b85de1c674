// Package httpcache fetches the small, signed metadata files of package
// repositories (APT's InRelease, apk's APKINDEX.tar.gz) through a disk
// cache that is revalidated on every use: a cached copy is sent back with
// If-None-Match and If-Modified-Since and reused on 304 Not Modified.
// Concurrent requests for the same URL share one transfer (Group). The
// cache only saves transfers; callers verify what they get.
package httpcache
