// Package apt patches Debian and Ubuntu images without running apt or dpkg.
//
// It reads the image's dpkg database, sources and keyrings through imagefs,
// loads the configured repositories through the verified client of
// internal/apt, chooses for every vulnerable source package the highest
// candidate at or above the fixed version, closes the plan over Depends,
// Pre-Depends, Breaks and Conflicts, downloads the packages (each checked
// against the signed index) and writes one deterministic layer: the new
// files at their real paths (resolved through the image's symlinks, so
// usr-merged images stay merged), whiteouts for files the old versions had,
// user-modified conffiles kept with the new version beside them as
// .dpkg-dist, and the dpkg database entries dpkg itself would write.
// Maintainer scripts are not run; the outcome names the packages that had
// some.
//
// The package registers its patcher with patch.Register as "apt" for the
// debian and ubuntu families; patch.New builds it from the "apt" entry of
// patch.Config.Repositories. The layer is written with internal/patch/layer.
package apt
