package layer

import (
	"context"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// UsrAlias returns the other name a path has on a usr-merged system:
// "bin/x" for "usr/bin/x" and the reverse; other paths are returned as
// they are.
func UsrAlias(p string) string {
	first, _, _ := strings.Cut(p, "/")
	if rest, ok := strings.CutPrefix(p, "usr/"); ok {
		first, _, _ = strings.Cut(rest, "/")
		if IsMergedDir(first) {
			return rest
		}
		return p
	}
	if IsMergedDir(first) {
		return "usr/" + p
	}
	return p
}

// IsMergedDir reports whether a top-level directory is one the usr merge
// turns into a symlink into usr (bin, sbin, lib*).
func IsMergedDir(name string) bool {
	return name == "bin" || name == "sbin" || strings.HasPrefix(name, "lib")
}

// Lookup holds the image's answers for package paths.
type Lookup struct {
	// Files are the answers with the last symlink followed, with the
	// content of regular files.
	Files map[string]imagefs.Node
	// Stats are the answers with the last element not followed.
	Stats map[string]imagefs.Node
}

// lookupChunk bounds the paths of one imagefs request, which tracks a
// limited number of paths.
const lookupChunk = 4000

// LookUp asks the image about many paths in as few passes as imagefs
// allows (it follows a bounded number of paths per pass): files with their
// last symlink followed (directories a package writes into, files whose
// content matters), stats with their last element not followed.
func LookUp(ctx context.Context, view *imagefs.View, files, stats []string) (*Lookup, error) {
	files, stats = dedupe(files), dedupe(stats)
	out := &Lookup{Files: map[string]imagefs.Node{}, Stats: map[string]imagefs.Node{}}
	for len(files) > 0 || len(stats) > 0 {
		nf := min(len(files), lookupChunk)
		ns := min(len(stats), lookupChunk-nf)
		res, err := view.Resolve(ctx, imagefs.Request{Files: files[:nf], Stat: stats[:ns]})
		if err != nil {
			return nil, err
		}
		for k, n := range res.Files {
			out.Files[k] = n
		}
		for k, n := range res.Stats {
			out.Stats[k] = n
		}
		files, stats = files[nf:], stats[ns:]
	}
	return out, nil
}

// dedupe sorts and removes duplicates.
func dedupe(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
