// Package rpmmd reads rpm-md repositories as dnf, yum, tdnf, microdnf and
// zypper use them, for the rpm patcher: the repository files of an image
// (/etc/yum.repos.d/*.repo, /etc/zypp/repos.d/*.repo) with dnf's variable
// substitution and $releasever detection, mirrorlist and metalink
// resolution, repodata/repomd.xml (verified with its detached OpenPGP
// signature repomd.xml.asc when the repository signs it or
// repo_gpgcheck asks for it), primary.xml (gzip, xz or zstd; checked
// against repomd's checksum and parsed streaming, with caps on every
// size), and package downloads checked against primary's checksum and
// size while they stream. Metadata is cached and revalidated through
// internal/httpcache. Package files themselves are read by internal/rpm.
package rpmmd
