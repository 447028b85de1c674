// Package imagefs answers questions about the final filesystem of a container
// image without unpacking it.
//
// A View reads the layers of a go-containerregistry v1.Image from the top
// down, streaming their tar entries, and resolves only the paths it is asked
// about: the content of a few files (such as etc/os-release or
// var/lib/dpkg/status), the files directly inside a few directories (globs
// such as var/lib/dpkg/status.d/*), and the type of a few nodes (is bin a
// symlink?). Whiteouts (.wh.<name>) and opaque directories (.wh..wh..opq) are
// honoured, symlinks are followed inside the image root (never outside it),
// and lower layers are not opened once every question is answered.
//
// Every layer a View reads is verified: its blob against the manifest's
// digest and its uncompressed tar against the config's diff_id, both read to
// their end even when the answer was settled earlier in the archive; the
// config is checked against the manifest's config digest when the View is
// opened. A difference is an error matching ErrDigestMismatch, never an
// answer. Images with more than MaxLayers layers are refused.
//
// The model is the one container runtimes apply: each layer's entries sit at
// their literal tar paths, an entry in a higher layer hides the same path
// below, and a non-directory hides everything beneath its path in lower
// layers. An entry written beneath a path that a lower layer made a symlink
// is not re-homed through that symlink; image builders never produce such
// entries, because they record the real path of every change.
package imagefs
