// Package patch turns an image with fixable OS-package vulnerabilities into a
// patched image without rebuilding it.
//
// A Patcher (one per package manager; internal/patch/apt implements Debian
// and Ubuntu) plans which packages to upgrade for a list of findings and
// writes one layer holding the new packages' files, whiteouts for the files
// they dropped and the updated package database. This package appends that
// layer to the original image with a history entry and provenance labels,
// patches every Linux platform of a multi-platform index, chooses the tag
// under the repository's patch tag convention, pushes blobs before
// manifests, and describes what was fixed as an OpenVEX document.
package patch
