// Package patchtest builds the inputs of patcher tests and checks their
// outputs: Debian-like images whose packages are installed as dpkg would
// install them (files, status or status.d records, info lists, md5sums and
// conffiles), from the same package descriptions a test APT repository
// (internal/testutil/aptrepo) serves, and vulnerability databases with
// advisories for them; the findings of an image (Findings), a patch applied
// to it (PatchImage), and the files and layer headers of the result
// (ReadFiles, LayerHeaders), the same for every package manager; and the
// one BenchmarkPatch harness (BenchPatch).
package patchtest
