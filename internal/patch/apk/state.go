package apk

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/apk"
	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
)

// apk database and configuration paths, relative to the image root.
const (
	archFile       = "etc/apk/arch"
	reposFile      = "etc/apk/repositories"
	worldFile      = "etc/apk/world"
	keysDir        = "etc/apk/keys"
	shareKeysDir   = "usr/share/apk/keys"
	protectedDir   = "etc/apk/protected_paths.d"
	scriptsFile    = "lib/apk/db/scripts.tar"
	triggersFile   = "lib/apk/db/triggers"
	osReleaseFile  = "etc/os-release"
	osReleaseFile2 = "usr/lib/os-release"
)

// imageState is what the patcher reads from an image before planning.
type imageState struct {
	view *imagefs.View
	cfg  *v1.ConfigFile
	// id and versionID are os-release's ID and VERSION_ID.
	id, versionID string
	arch          string
	db            *apk.Installed
	repositories  []byte
	hasRepos      bool
	// world maps package names to the repository tag they are pinned to.
	world map[string]string
	// keys are the key files the image trusts, by path.
	keys      map[string][]byte
	protected []protectRule
	scripts   []byte
	triggers  []byte
}

// readImageState reads the release, apk configuration and database in one
// pass over the layers. The image is read again when the layer is built,
// so each layer read is kept, verified and uncompressed, in workDir until
// the state's view is closed.
func readImageState(ctx context.Context, img v1.Image, workDir string) (_ *imageState, err error) {
	view, cfg, err := patch.OpenImage(ctx, img, workDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = view.Close()
		}
	}()
	cfgArch := apkArch(cfg.Architecture, cfg.Variant)
	files := []string{archFile, reposFile, worldFile, apk.InstalledFile, scriptsFile, triggersFile, osReleaseFile, osReleaseFile2}
	globs := []string{keysDir + "/*", protectedDir + "/*", shareKeysDir + "/" + cfgArch + "/*"}
	res, err := view.Resolve(ctx, imagefs.Request{Files: files, Globs: globs})
	if err != nil {
		return nil, fmt.Errorf("reading the apk database and configuration: %w", err)
	}
	content := patch.RegularFiles(res.Files)
	st := &imageState{view: view, cfg: cfg, keys: map[string][]byte{}, world: map[string]string{}, protected: slices.Clone(defaultProtected)}
	rel := content[osReleaseFile]
	if rel == nil {
		rel = content[osReleaseFile2]
	}
	kv := ospkg.ReleaseFields(rel)
	st.id, st.versionID = kv["ID"], kv["VERSION_ID"]
	st.arch = strings.TrimSpace(string(content[archFile]))
	if st.arch == "" {
		st.arch = cfgArch
	}
	data, ok := content[apk.InstalledFile]
	if !ok {
		return nil, fmt.Errorf("/%s: not in the image", apk.InstalledFile)
	}
	if st.db, err = apk.ParseInstalled(data); err != nil {
		return nil, err
	}
	st.repositories, st.hasRepos = content[reposFile]
	st.scripts, st.triggers = content[scriptsFile], content[triggersFile]
	for _, w := range strings.Fields(string(content[worldFile])) {
		d, err := apk.ParseDep(w)
		if err == nil && !d.Conflict {
			st.world[d.Name] = d.Tag
		}
	}
	shareDir := shareKeysDir + "/" + st.arch
	for g, nodes := range res.Globs {
		dir := strings.TrimSuffix(g, "/*")
		for _, n := range nodes {
			if n.Kind != imagefs.KindRegular {
				continue
			}
			switch {
			case dir == keysDir || dir == shareDir:
				st.keys[n.Path] = n.Content
			case dir == protectedDir && strings.HasSuffix(n.Path, ".list"):
				st.protected = append(st.protected, parseProtected(n.Content)...)
			}
		}
	}
	return st, nil
}

// apkArch maps an OCI platform architecture to apk's.
func apkArch(arch, variant string) string {
	switch arch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "x86"
	case "arm":
		if variant == "v6" || variant == "v5" {
			return "armhf"
		}
		return "armv7"
	}
	return arch
}

// protectRule is one line of a protected_paths.d list: '+' protects a
// path, '-' unprotects it, '!' ignores changes, '@' protects symlinks only.
type protectRule struct {
	mode byte
	path string
}

// defaultProtected is what apk always protects; the lists of
// protected_paths.d add to it, the most specific rule winning.
var defaultProtected = []protectRule{{'+', "etc"}, {'@', "etc/init.d"}, {'!', "etc/apk"}}

// parseProtected reads a .list file.
func parseProtected(data []byte) []protectRule {
	var out []protectRule
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if len(l) < 2 || !strings.ContainsRune("+-!@", rune(l[0])) {
			continue
		}
		out = append(out, protectRule{mode: l[0], path: strings.Trim(l[1:], "/")})
	}
	return out
}

// isProtected reports whether a regular file at p is protected: the
// longest matching rule decides, a later one among equals.
func (st *imageState) isProtected(p string) bool {
	best, mode := -1, byte(0)
	for _, r := range st.protected {
		if (p == r.path || strings.HasPrefix(p, r.path+"/")) && len(r.path) >= best {
			best, mode = len(r.path), r.mode
		}
	}
	return mode == '+'
}

// scriptEntry is one file of scripts.tar.
type scriptEntry struct {
	hdr  tar.Header
	data []byte
}

// readScripts reads the image's scripts.tar.
func readScripts(data []byte) ([]scriptEntry, error) {
	var out []scriptEntry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", scriptsFile, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("/%s: %s: %w", scriptsFile, h.Name, err)
		}
		out = append(out, scriptEntry{hdr: *h, data: b})
	}
}

// keyring returns the keys the image trusts.
func (st *imageState) keyring(log *slog.Logger) *apk.Keyring {
	kr := apk.NewKeyring()
	for _, p := range sortedKeys(st.keys) {
		if err := kr.Add(p, st.keys[p]); err != nil {
			log.Warn("apk patcher: ignoring a key of the image", "path", "/"+p, "err", err)
		}
	}
	return kr
}

// dirOf returns the directory of a path, "" for the root.
func dirOf(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}
