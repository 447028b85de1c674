// Package rpm patches RPM-based images (Rocky, Alma, RHEL and UBI, Oracle,
// CentOS Stream, Fedora, Amazon Linux, Azure Linux, CBL-Mariner, Photon,
// openSUSE and SLE): it reads the installed rpm database and the image's
// rpm-md repositories, chooses for every vulnerable source RPM the highest
// available version at least as new as the fix and upgrades every
// installed binary package built from it (multilib twins included),
// closes the plan over Requires (rich dependencies included), Provides,
// Obsoletes and Conflicts, downloads and verifies the packages, and writes
// one layer (internal/patch/layer) holding the new payloads, whiteouts for
// files nothing owns any more, %config files handled as rpm does
// (.rpmnew, .rpmsave) and the updated rpm database. Scriptlets and file
// triggers are not run; the outcome names them.
package rpm
