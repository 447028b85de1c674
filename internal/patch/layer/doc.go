// Package layer builds the one layer a patch appends to an image, for any
// package manager: a Builder of entries by literal path written as a
// deterministic gzip tar (sorted, hard links last, fixed times, PAX
// headers without access or change times) into a File that implements
// v1.Layer; a Spool holding package contents on disk while the layer is
// assembled; and the path layout that places package paths where the image's symlinks (the
// usr merge) put them: LookUp, Layout, UsrAlias.
//
// A package manager's patcher reads its packages, asks LookUp and Layout
// where each path goes, Puts the entries and its database files, and calls
// WriteFile; the layer it returns goes into patch.Outcome.Layer.
package layer
