package rpm

import (
	"crypto/md5"  //nolint:gosec // rpm's default file digest is MD5.
	"crypto/sha1" //nolint:gosec // rpm file digest algorithm 2.
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/layer"
	"github.com/patchloop/patchloop/internal/rpm"
)

// fileDigest returns the hex digest of data in rpm's digest algorithm
// algo (PGPHASHALGO_*: 1 MD5, 2 SHA-1, 8 SHA-256, 9 SHA-384, 10 SHA-512;
// 0 is MD5); "" for an unknown algorithm.
func fileDigest(algo uint32, data []byte) string {
	var h hash.Hash
	switch algo {
	case 0, 1:
		h = md5.New() //nolint:gosec // rpm's own choice of digest.
	case 2:
		h = sha1.New() //nolint:gosec // rpm's own choice of digest.
	case 8:
		h = sha256.New()
	case 9:
		h = sha512.New384()
	case 10:
		h = sha512.New()
	default:
		return ""
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// relPath turns rpm's absolute path into the layer's relative one.
func relPath(p string) string { return strings.TrimPrefix(p, "/") }

// fileAction is what happens to one file of a new package.
type fileAction int

// File actions, as rpm's file state machine decides them for an upgrade.
const (
	// actWrite writes the package's file at its path.
	actWrite fileAction = iota
	// actSkip leaves the image's file as it is (%ghost files, %config
	// files the user changed and the package did not).
	actSkip
	// actAltName writes the package's file as path.rpmnew, keeping the
	// user's (%config(noreplace) changed on both sides).
	actAltName
	// actSave writes the package's file and keeps the user's as
	// path.rpmsave (plain %config changed on both sides) or path.rpmorig
	// (a %config file the old packages did not own).
	actSave
)

// fileDecision is the action for one new file, with the name the user's
// copy is saved under for actSave.
type fileDecision struct {
	act    fileAction
	saveAs string
}

// configState describes a %config path of a new package: its entry in the
// new and the old package (old nil when the old packages did not own the
// path) and the image's file there.
type configState struct {
	newFile FileInfo
	newAlgo uint32
	old     *FileInfo
	oldAlgo uint32
	cur     imagefs.Node
}

// decide chooses the action for a new package's file. Only %config files
// with a file in the image need their content compared; everything else
// but %ghost is written.
func decide(s configState) fileDecision {
	f := s.newFile
	switch {
	case f.Flags&rpm.FileGhost != 0:
		return fileDecision{act: actSkip}
	case f.Flags&rpm.FileConfig == 0 || isDir(f) || !isRegular(f):
		return fileDecision{act: actWrite}
	case s.cur.Kind == imagefs.KindAbsent || s.cur.Kind == imagefs.KindUnknown || s.cur.Kind == imagefs.KindDir:
		return fileDecision{act: actWrite}
	}
	if s.cur.Kind == imagefs.KindRegular {
		if fileDigest(s.newAlgo, s.cur.Content) == f.Digest {
			return fileDecision{act: actWrite} // already the new content
		}
		if s.old != nil && fileDigest(s.oldAlgo, s.cur.Content) == s.old.Digest {
			return fileDecision{act: actWrite} // the user did not change it
		}
		if s.old != nil && s.old.Digest == f.Digest && s.oldAlgo == s.newAlgo {
			return fileDecision{act: actSkip} // the package did not change it
		}
	}
	if f.Flags&rpm.FileNoReplace != 0 {
		return fileDecision{act: actAltName}
	}
	if s.old == nil {
		return fileDecision{act: actSave, saveAs: relPath(f.Path) + ".rpmorig"}
	}
	return fileDecision{act: actSave, saveAs: relPath(f.Path) + ".rpmsave"}
}

// removal is a file an old package owned that nothing owns after the
// upgrade.
type removal struct {
	path string
	// config says the file is a %config file of its old package; a
	// changed one is saved as path.rpmsave before it is removed.
	config bool
	old    FileInfo
	algo   uint32
	owner  string
}

// removals returns the files of the old packages that no package of the
// planned system owns (under the path or its usr-merge alias), except
// directories and %ghost files, which rpm leaves; sorted by path.
func removals(old []*Package, after []*Package) []removal {
	owned := map[string]bool{}
	for _, p := range after {
		for _, f := range p.Files {
			owned[relPath(f.Path)] = true
		}
	}
	isOwned := func(p string) bool {
		return owned[p] || owned[layer.UsrAlias(p)]
	}
	seen := map[string]bool{}
	var out []removal
	for _, p := range old {
		for _, f := range p.Files {
			rp := relPath(f.Path)
			if isDir(f) || f.Flags&rpm.FileGhost != 0 || isOwned(rp) || seen[rp] {
				continue
			}
			seen[rp] = true
			out = append(out, removal{path: rp, config: f.Flags&rpm.FileConfig != 0, old: f, algo: p.DigestAlgo, owner: p.NEVRA()})
		}
	}
	slices.SortFunc(out, func(a, b removal) int { return strings.Compare(a.path, b.path) })
	return out
}

// userChanged reports whether a removed %config file the user changed
// must be saved as .rpmsave first.
func (r removal) userChanged(cur imagefs.Node) bool {
	return r.config && cur.Kind == imagefs.KindRegular && fileDigest(r.algo, cur.Content) != r.old.Digest
}

// fileConflicts fails, as rpm's transaction check does, when a new
// package ships a regular file that a package staying installed owns with
// other content (same digest algorithm, different digest); identical
// files (shared documentation), %ghost files and the files of multilib
// twins (which rpm's file colors settle) are shared.
func fileConflicts(kept []*Package, pkgs []*fetched) error {
	type owner struct {
		pkg  *Package
		file FileInfo
	}
	owned := map[string]owner{}
	for _, p := range kept {
		for _, f := range p.Files {
			if isRegular(f) && f.Flags&rpm.FileGhost == 0 {
				owned[f.Path] = owner{p, f}
			}
		}
	}
	for _, fp := range pkgs {
		for _, f := range fp.pkg.Files {
			o, ok := owned[f.Path]
			if !ok || !isRegular(f) || f.Flags&rpm.FileGhost != 0 || o.pkg.DigestAlgo != fp.pkg.DigestAlgo || o.file.Digest == f.Digest ||
				o.pkg.Name == fp.pkg.Name { // a multilib twin: rpm's file colors decide
				continue
			}
			return fmt.Errorf("%w: file %s of %s conflicts with the file of %s", patch.ErrConflict, f.Path, fp.pkg.NEVRA(), o.pkg.NEVRA())
		}
	}
	return nil
}
