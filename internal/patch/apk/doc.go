// Package apk patches Alpine, Wolfi and Chainguard images: it reads the
// installed database (lib/apk/db/installed) and the repositories the image
// uses, chooses for every vulnerable origin the highest available version
// at least as new as the fix and upgrades every installed package of that
// origin, closes the plan over dependencies (package names and so:, cmd:
// and pc: provides, with version constraints and conflicts), downloads and
// verifies the packages through the signed index (internal/apk), and
// writes one layer (internal/patch/layer) holding the new files, whiteouts
// for dropped ones, protected configuration kept with .apk-new beside it,
// and the updated database and scripts.tar. Install scripts and triggers
// are not run; the outcome names them.
package apk
