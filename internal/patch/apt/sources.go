package apt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/logctx"
)

// imageSources returns the repositories to patch from: the image's own
// sources lists, or the default sources of its release when it has none,
// with the mirror overrides applied and a keyring set on every source.
func (p *Patcher) imageSources(ctx context.Context, st *imageState, arch string) ([]archive.Source, error) {
	srcs, err := parseImageSources(st)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		version := st.rel.Codename
		if version == "" {
			version = st.rel.VersionID
		}
		srcs, err = archive.DefaultSources(st.rel.ID, version, archive.DefaultOptions{Arch: arch})
		if err != nil {
			return nil, fmt.Errorf("image has no apt sources and its release (%s) has no defaults: %w", st.rel, err)
		}
		logctx.From(ctx, p.log).InfoContext(ctx, "apt patcher: image has no sources list; using the release's default sources", "release", st.rel.String())
	}
	srcs = slices.DeleteFunc(srcs, func(s archive.Source) bool {
		if strings.HasSuffix(s.Suite, "/") {
			logctx.From(ctx, p.log).WarnContext(ctx, "apt patcher: skipping flat repository", "uri", s.URI, "origin", s.Origin)
			return true
		}
		return false
	})
	// Only the release's official archives (or the operator's mirrors of
	// them) may fall back to the host's keyring; decide before mirroring.
	official := make([]bool, len(srcs))
	for i := range srcs {
		official[i] = archive.IsOfficialArchive(st.rel.ID, srcs[i].URI) || p.isMirror(srcs[i].URI)
		srcs[i].URI = p.mirrorOf(srcs[i].URI)
	}
	if err := p.setKeyrings(ctx, st, srcs, official); err != nil {
		return nil, err
	}
	return srcs, nil
}

// mirrorOf applies the mirror overrides to a repository URI.
func (p *Patcher) mirrorOf(uri string) string {
	key := strings.TrimSuffix(uri, "/")
	for from, to := range p.opts.Mirrors {
		if strings.TrimSuffix(from, "/") == key {
			return to
		}
	}
	if p.opts.Mirror != "" {
		return p.opts.Mirror
	}
	return uri
}

// isMirror reports whether uri is one of the mirrors the operator
// configured.
func (p *Patcher) isMirror(uri string) bool {
	key := strings.TrimSuffix(uri, "/")
	if p.opts.Mirror != "" && strings.TrimSuffix(p.opts.Mirror, "/") == key {
		return true
	}
	for _, to := range p.opts.Mirrors {
		if strings.TrimSuffix(to, "/") == key {
			return true
		}
	}
	return false
}

// parseImageSources reads etc/apt/sources.list and the .list and .sources
// files of etc/apt/sources.list.d, in apt's order.
func parseImageSources(st *imageState) ([]archive.Source, error) {
	var out []archive.Source
	if data, ok := st.files[sourcesList]; ok {
		srcs, err := archive.ParseSourcesList(bytes.NewReader(data), "/"+sourcesList)
		if err != nil {
			return nil, fmt.Errorf("reading image sources: %w", err)
		}
		out = append(out, srcs...)
	}
	files := st.dirFiles(sourcesListDir)
	for _, name := range sortedNames(files) {
		origin := "/" + sourcesListDir + "/" + name
		var (
			srcs []archive.Source
			err  error
		)
		switch {
		case strings.HasSuffix(name, ".list"):
			srcs, err = archive.ParseSourcesList(bytes.NewReader(files[name]), origin)
		case strings.HasSuffix(name, ".sources"):
			srcs, err = archive.ParseDeb822Sources(bytes.NewReader(files[name]), origin)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading image sources: %w", err)
		}
		out = append(out, srcs...)
	}
	return out, nil
}

// setKeyrings gives every source the keyring that verifies it: the user's
// keyring when one was given; otherwise the keyrings its signed-by option
// names (read from the image), an inline key, or the keys the image
// trusts (etc/apt/trusted.gpg, etc/apt/trusted.gpg.d, usr/share/keyrings).
// For images that trust none (distroless), the host's archive keyring of
// a Debian or Ubuntu image verifies the release's official archives
// (official[i]) and nothing else. Each choice is logged at info.
func (p *Patcher) setKeyrings(ctx context.Context, st *imageState, srcs []archive.Source, official []bool) error {
	var (
		trusted     *archive.Keyring
		trustedRead bool
		host        *archive.Keyring
		hostPath    string
	)
	for i := range srcs {
		s := &srcs[i]
		switch {
		case p.opts.Keyring != nil:
			s.Keyring = p.opts.Keyring
			p.logKeyring(ctx, s, "the keyring given by the user (--keyring)")
			continue
		case s.Keyring != nil:
			p.logKeyring(ctx, s, "the source's inline signed-by key")
			continue
		}
		var paths []string
		for _, sb := range s.SignedBy {
			if strings.HasPrefix(sb, "/") {
				paths = append(paths, sb)
			}
		}
		if len(paths) > 0 {
			kr, err := p.imageKeyring(ctx, st, paths)
			if err != nil {
				return fmt.Errorf("source %s %s (%s): %w", s.URI, s.Suite, s.Origin, err)
			}
			s.Keyring = kr
			p.logKeyring(ctx, s, "the image's "+strings.Join(paths, ", "))
			continue
		}
		if !trustedRead {
			trusted, trustedRead = p.trustedKeyring(ctx, st), true
		}
		if trusted != nil {
			s.Keyring = trusted
			p.logKeyring(ctx, s, fmt.Sprintf("the image's trusted keys (%s, %s/, %s/)", trustedGPG, trustedGPGDir, keyringsDir))
			continue
		}
		if host == nil {
			var err error
			if host, hostPath, err = p.hostKeyring(ctx, st); err != nil {
				return err
			}
		}
		if !official[i] {
			return fmt.Errorf("source %s %s (%s): the image trusts no repository keys, and the host's %s verifies only the official %s archives (or --apt-mirror), not a source the image names: pass a keyring (--keyring)", s.URI, s.Suite, s.Origin, hostPath, st.rel.ID)
		}
		s.Keyring = host
		p.logKeyring(ctx, s, "the host's "+hostPath)
	}
	return nil
}

// logKeyring says which keyring verifies a source, in the run's log when
// the context carries one.
func (p *Patcher) logKeyring(ctx context.Context, s *archive.Source, keyring string) {
	logctx.From(ctx, p.log).InfoContext(ctx, "apt patcher: source verified by keyring", "source", s.URI+" "+s.Suite, "origin", s.Origin, "keyring", keyring)
}

// imageKeyring loads keyring files from the image.
func (p *Patcher) imageKeyring(ctx context.Context, st *imageState, paths []string) (*archive.Keyring, error) {
	files, err := st.readFiles(ctx, paths)
	if err != nil {
		return nil, err
	}
	var krs []*archive.Keyring
	for _, sb := range paths {
		data, ok := files[strings.TrimPrefix(sb, "/")]
		if !ok {
			return nil, fmt.Errorf("signed-by keyring %s: not a file in the image", sb)
		}
		kr, err := archive.ParseKeyring(data)
		if err != nil {
			return nil, fmt.Errorf("signed-by keyring %s: %w", sb, err)
		}
		krs = append(krs, kr)
	}
	return archive.MergeKeyrings(krs...), nil
}

// trustedKeyring merges every keyring the image trusts by default; nil
// when it trusts none.
func (p *Patcher) trustedKeyring(ctx context.Context, st *imageState) *archive.Keyring {
	var krs []*archive.Keyring
	add := func(name string, data []byte) {
		kr, err := archive.ParseKeyring(data)
		if err != nil {
			logctx.From(ctx, p.log).DebugContext(ctx, "apt patcher: skipping keyring", "file", name, "err", err)
			return
		}
		krs = append(krs, kr)
	}
	if data, ok := st.files[trustedGPG]; ok {
		add(trustedGPG, data)
	}
	for _, dir := range []string{trustedGPGDir, keyringsDir} {
		files := st.dirFiles(dir)
		for _, name := range sortedNames(files) {
			if !isKeyringName(name) {
				continue
			}
			add(dir+"/"+name, files[name])
		}
	}
	if len(krs) == 0 {
		return nil
	}
	return archive.MergeKeyrings(krs...)
}

// hostKeyring loads the host's archive keyring for an image that trusts
// no keys. Only Debian and Ubuntu images qualify, and the file name is
// fixed per distribution: the image's os-release never names a host path.
func (p *Patcher) hostKeyring(ctx context.Context, st *imageState) (*archive.Keyring, string, error) {
	noKeys := fmt.Sprintf("the image trusts no repository keys (no %s, %s/ or %s/ keyrings) and no keyring was given", trustedGPG, trustedGPGDir, keyringsDir)
	name, known := archive.HostKeyringFile(st.rel.ID)
	if !known {
		return nil, "", fmt.Errorf("%s; its os-release ID %q is not debian or ubuntu, the only distributions whose host archive keyring is used: pass a keyring (--keyring)", noKeys, st.rel.ID)
	}
	if p.opts.HostKeyringDir == "" {
		return nil, "", fmt.Errorf("%s: pass a keyring (--keyring)", noKeys)
	}
	host := filepath.Join(p.opts.HostKeyringDir, name)
	kr, err := archive.LoadKeyringFiles(ctx, host)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("%s, and the host has no %s: pass a keyring (--keyring)", noKeys, host)
	}
	if err != nil {
		return nil, "", err
	}
	return kr, host, nil
}

// isKeyringName reports whether apt would read a file of a keyring
// directory: .gpg and .asc files, not keyrings of removed keys.
func isKeyringName(name string) bool {
	ext := path.Ext(name)
	return (ext == ".gpg" || ext == ".asc") && !strings.Contains(name, "removed-keys")
}
