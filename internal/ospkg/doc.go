// Package ospkg finds the operating system of a container image and the OS
// packages installed in it (dpkg, apk and rpm databases), the way Trivy
// reports them, so that a matcher can compare them with advisories.
//
// Inspect reads the image through imagefs, asking for the release files and
// package databases of every supported format at once, and stops reading
// lower layers as soon as the answer cannot change any more. A Cache keyed by
// the image's layer diffIDs lets a rescan skip the layers entirely.
package ospkg
