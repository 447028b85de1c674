package apt

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/patch"
)

// dpkg database and apt configuration paths, relative to the image root.
const (
	statusFile     = "var/lib/dpkg/status"
	statusDir      = "var/lib/dpkg/status.d"
	infoDir        = "var/lib/dpkg/info"
	sourcesList    = "etc/apt/sources.list"
	sourcesListDir = "etc/apt/sources.list.d"
	trustedGPG     = "etc/apt/trusted.gpg"
	trustedGPGDir  = "etc/apt/trusted.gpg.d"
	keyringsDir    = "usr/share/keyrings"
	aptKeyringsDir = "etc/apt/keyrings"
)

// releaseFiles identify the distribution release.
var releaseFiles = []string{"etc/os-release", "usr/lib/os-release", "etc/debian_version", "etc/lsb-release"}

// imageState is what the patcher reads from an image before planning.
type imageState struct {
	log  *slog.Logger
	view *imagefs.View
	cfg  *v1.ConfigFile
	// files holds the content of the wanted regular files, by path.
	files map[string][]byte
	// globs holds the regular files directly inside wanted directories.
	globs map[string][]imagefs.Node
	db    *dpkgDB
	rel   osRelease
	// infoRead is true when globs holds the whole info directory.
	infoRead bool
}

// readImageState reads the release files, the dpkg database and the apt
// configuration in one pass over the layers. The image is read more than
// once (before and after choosing packages), so each layer read is kept,
// verified and uncompressed, in workDir until the state's view is closed.
func readImageState(ctx context.Context, img v1.Image, workDir string, log *slog.Logger) (_ *imageState, err error) {
	view, cfg, err := patch.OpenImage(ctx, img, workDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = view.Close()
		}
	}()
	files := append([]string{statusFile, sourcesList, trustedGPG}, releaseFiles...)
	globs := []string{statusDir + "/*", sourcesListDir + "/*", trustedGPGDir + "/*", keyringsDir + "/*", aptKeyringsDir + "/*"}
	// The info directory is read in the same pass when it is small enough
	// to follow; otherwise what is needed of it is read later.
	res, err := view.Resolve(ctx, imagefs.Request{Files: files, Globs: append(globs, infoDir+"/*")})
	infoRead := err == nil
	if err != nil {
		log.DebugContext(ctx, "apt patcher: reading the dpkg info directory later", "err", err)
		if res, err = view.Resolve(ctx, imagefs.Request{Files: files, Globs: globs}); err != nil {
			return nil, fmt.Errorf("reading dpkg database and apt configuration: %w", err)
		}
	}
	st := &imageState{log: log, view: view, cfg: cfg, files: patch.RegularFiles(res.Files), globs: map[string][]imagefs.Node{}}
	for g, nodes := range res.Globs {
		st.globs[strings.TrimSuffix(g, "/*")] = nodes
	}
	st.infoRead = infoRead
	st.rel = readOSRelease(st.files)
	st.db, err = parseDpkgDB(st.files[statusFile], st.globs[statusDir], log)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// dirFiles returns the files directly inside dir that were read, by base
// name.
func (st *imageState) dirFiles(dir string) map[string][]byte {
	out := map[string][]byte{}
	for _, n := range st.globs[dir] {
		out[path.Base(n.Path)] = n.Content
	}
	return out
}

// readFiles returns the content of paths in the final filesystem (symlinks
// followed inside the image); paths that are not regular files are left
// out.
func (st *imageState) readFiles(ctx context.Context, paths []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	var missing []string
	for _, p := range paths {
		p = strings.TrimPrefix(p, "/")
		if data, ok := st.files[p]; ok {
			out[p] = data
			continue
		}
		if dir, base := path.Split(p); dir != "" {
			if data, ok := st.dirFiles(strings.TrimSuffix(dir, "/"))[base]; ok {
				out[p] = data
				continue
			}
		}
		missing = append(missing, p)
	}
	if len(missing) == 0 {
		return out, nil
	}
	res, err := st.view.Resolve(ctx, imagefs.Request{Files: missing})
	if err != nil {
		return nil, err
	}
	for p, n := range res.Files {
		if n.Kind == imagefs.KindRegular {
			out[p] = n.Content
		}
	}
	return out, nil
}
