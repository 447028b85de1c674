package rpm

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/patch/layer"
	"github.com/patchloop/patchloop/internal/redact"
	"github.com/patchloop/patchloop/internal/rpm"
)

// fetched is one downloaded, verified package: its headers, its file
// list and its payload entries spooled.
type fetched struct {
	n *node
	// file is the package file read up to its payload.
	file *rpm.Package
	pkg  *Package
	// entries are the payload's entries in archive order.
	entries []*payloadEntry
	// byPath maps a package path (relative) to its entry.
	byPath map[string]*payloadEntry
	// notInstalled are the indexes of files the image's policy leaves
	// out (documentation with nodocs, other languages).
	notInstalled []int
}

// payloadEntry is one file of a payload.
type payloadEntry struct {
	path string
	// index is the file's index in the header's file arrays.
	index int
	file  *FileInfo
	// off, len locate a regular file's content in the spool; has says
	// the archive carried content (hard link sets carry it once).
	off, len int64
	has      bool
}

// fetchAll downloads the planned packages, verifies them and spools
// their contents.
func (p *Patcher) fetchAll(ctx context.Context, changes []*node, sp *layer.Spool) ([]*fetched, error) {
	var out []*fetched
	for _, n := range changes {
		r, ok := n.cand.Ref.(*ref)
		if !ok {
			return nil, fmt.Errorf("package %s: no repository to download it from", n.cand.NEVRA())
		}
		path, err := p.client.Fetch(ctx, r.repo.md, r.pkg)
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", n.cand.NEVRA(), err)
		}
		fp, err := p.readPackage(n, r, path, sp)
		if err != nil {
			return nil, fmt.Errorf("package %s (%s): %w", n.cand.NEVRA(), redact.String(r.repo.md.PackageURL(r.pkg)), err)
		}
		out = append(out, fp)
	}
	return out, nil
}

// readPackage verifies a downloaded package (its header digests always,
// its OpenPGP signature unless the repository has gpgcheck=0), checks that
// it is the planned package, and streams its payload into the spool,
// verified as it streams: a payload that fails its digest fails here.
func (p *Patcher) readPackage(n *node, r *ref, path string, sp *layer.Spool) (*fetched, error) {
	gpg := r.repo.repo.GPGCheck
	opts := rpm.VerifyOptions{Keyring: r.repo.keys, RequireSignature: gpg, NoSignature: !gpg, Now: p.opts.Now()}
	// OpenFile checks the compressed payload against the signed digest
	// before anything decompresses it: a decompression bomb in place of
	// a signed payload costs one read of the file, not its inflation.
	pf, f, err := rpm.OpenFile(path, opts)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pkg, err := fromHeader(pf.Header)
	if err != nil {
		return nil, err
	}
	if pkg.NEVRA() != n.cand.NEVRA() {
		return nil, fmt.Errorf("%w: the file holds %s, the repository metadata says %s", rpm.ErrDigest, pkg.NEVRA(), n.cand.NEVRA())
	}
	if !gpg {
		if err := noPrivilegedFiles(pkg, r.repo.repo.ID); err != nil {
			return nil, err
		}
	}
	a, err := pf.Payload(opts)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	fp := &fetched{n: n, file: pf, pkg: pkg, byPath: map[string]*payloadEntry{}}
	for {
		e, err := a.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		pe := &payloadEntry{path: e.Path, index: e.Index, file: e.File}
		if e.File.Mode&rpm.ModeType == rpm.ModeRegular && e.Size > 0 {
			if pe.off, pe.len, _, err = sp.Add(a); err != nil {
				return nil, fmt.Errorf("%s: %w", e.Path, err)
			}
			if pe.len != e.Size {
				return nil, fmt.Errorf("%s: %d bytes of %d", e.Path, pe.len, e.Size)
			}
			pe.has = true
		}
		if prev, dup := fp.byPath[pe.path]; dup {
			return nil, fmt.Errorf("%s: twice in the payload (%v)", pe.path, prev.file.Path)
		}
		fp.entries = append(fp.entries, pe)
		fp.byPath[pe.path] = pe
	}
	return fp, nil
}

// hardLinkTargets returns, for each regular file of a hard link set, the
// path of the set's member that carries the content; the others become
// hard links to it. Files not in a set map to themselves.
func hardLinkTargets(fp *fetched) map[string]string {
	type key struct{ dev, ino uint32 }
	sets := map[key][]*payloadEntry{}
	for _, e := range fp.entries {
		if e.file.Mode&rpm.ModeType == rpm.ModeRegular && e.file.Inode != 0 {
			k := key{e.file.Device, e.file.Inode}
			sets[k] = append(sets[k], e)
		}
	}
	out := map[string]string{}
	for _, set := range sets {
		if len(set) < 2 {
			continue
		}
		target := ""
		for _, e := range set {
			if e.has || (e.file.Size == 0 && target == "") {
				target = e.path
			}
		}
		if target == "" {
			target = set[0].path
		}
		for _, e := range set {
			if e.path != target {
				out[e.path] = target
			}
		}
	}
	return out
}

// ErrPrivilegedUnsigned: a package of a repository with gpgcheck=0
// (installed with --allow-unsigned) holds a file that grants privileges:
// setuid or setgid, file capabilities, or a device node.
var ErrPrivilegedUnsigned = patch.Permanent(errors.New("unsigned package holds a privileged file"))

// noPrivilegedFiles refuses the setuid/setgid files, file capabilities
// and device nodes of a package nothing signed: --allow-unsigned accepts
// unsigned content, not unsigned privileges.
func noPrivilegedFiles(pkg *Package, repoID string) error {
	for _, f := range pkg.Files {
		var what string
		switch {
		case f.Flags&rpm.FileGhost != 0:
			continue
		case f.Mode&rpm.ModeType == 0o020000 || f.Mode&rpm.ModeType == 0o060000:
			what = "a device node"
		case f.Mode&rpm.ModeType == rpm.ModeRegular && f.Mode&0o6000 != 0:
			what = fmt.Sprintf("setuid/setgid (mode %04o)", f.Mode&0o7777)
		case f.Caps != "":
			what = fmt.Sprintf("file capabilities %q", f.Caps)
		default:
			continue
		}
		return fmt.Errorf("%w: %s is %s and repository %s has gpgcheck=0; sign the package or drop the file", ErrPrivilegedUnsigned, f.Path, what, repoID)
	}
	return nil
}
