// Package imagetest builds small in-memory container images for tests:
// layers from tar entries (files, directories, symlinks, hard links,
// whiteouts, opaque markers), broken layers, images with a Linux or Windows
// config, on-disk uncompressed layers for benchmarks, and a wrapper that
// counts which layers were opened.
package imagetest
