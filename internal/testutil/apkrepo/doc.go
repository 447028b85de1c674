// Package apkrepo serves real, signed apk repositories on loopback for
// tests, and builds Alpine-like images whose packages are installed as apk
// installs them. Packages are made as abuild makes them: three
// concatenated gzip streams (a signature tar, a control tar holding
// .PKGINFO with the datahash and the install scripts, a data tar whose
// files carry APK-TOOLS.checksum.SHA1 PAX records); each repository's
// APKINDEX.tar.gz is signed with an RSA key. Keys are 2048-bit and made
// once per test binary (SharedKey), so tests stay fast.
package apkrepo
