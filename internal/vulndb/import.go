package vulndb

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// ImportOptions configure Import.
type ImportOptions struct {
	// Ref picks the artifact of an OCI layout whose index lists several:
	// the value of its org.opencontainers.image.ref.name annotation (a tag
	// such as "2") or its manifest digest.
	Ref string
	// MaxDBSize caps the size of trivy.db; zero means DefaultMaxDBSize.
	MaxDBSize int64
	// Now gives the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// ociRefName is the annotation an OCI layout's index names its entries by.
const ociRefName = "org.opencontainers.image.ref.name"

// Import installs into dir the database at src, without a network: src is
// one of
//
//   - the artifact's layer, a gzipped tar of trivy.db and metadata.json
//     (db.tar.gz, as `oras pull` saves it);
//   - an OCI image layout directory holding the artifact (as `oras copy
//     --to-oci-layout` or `crane pull --format oci` write it), whose layer
//     is checked against its digest;
//   - a database directory holding trivy.db and metadata.json (Trivy's
//     cache, ~/.cache/trivy/db), or the path of that trivy.db.
//
// The database is checked as Update checks a download, its source recorded
// as "file://<absolute path>" with the digest of the artifact (or of
// trivy.db), and moved into place; a failed import leaves the installed
// database untouched.
func Import(ctx context.Context, dir, src string, opts ImportOptions) (UpdateResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	maxDBSize := opts.MaxDBSize
	if maxDBSize <= 0 {
		maxDBSize = DefaultMaxDBSize
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("import vulnerability database %s: %w", src, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return UpdateResult{}, fmt.Errorf("create database directory: %w", err)
	}
	if same, _ := sameDir(abs, dir); same {
		return UpdateResult{}, fmt.Errorf("import vulnerability database %s: it is the database directory itself", src)
	}
	tmp, err := os.MkdirTemp(dir, downloadPrefix)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("create import directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	digest, err := unpack(ctx, abs, src, tmp, opts.Ref, maxDBSize, log)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("import vulnerability database %s: %w", src, err)
	}
	source := Source{Repository: "file://" + filepath.ToSlash(abs), Digest: digest}
	meta, err := installChecked(ctx, tmp, dir, "import vulnerability database "+src, source, now())
	if err != nil {
		return UpdateResult{}, err
	}
	log.InfoContext(ctx, "vulnerability database imported", "dir", dir, "source", source.Repository,
		"digest", digest, "updated_at", meta.UpdatedAt)
	return UpdateResult{Updated: true, Source: source, Metadata: meta}, nil
}

// sameDir reports whether a and b are the same directory.
func sameDir(a, b string) (bool, error) {
	ia, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	ib, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(ia, ib), nil
}

// unpack writes trivy.db and metadata.json from src (at path abs) into the
// empty directory tmp and returns the digest it recorded.
func unpack(ctx context.Context, abs, src, tmp, ref string, maxDBSize int64, log *slog.Logger) (string, error) {
	info, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("want a db.tar.gz, an OCI layout directory or a directory with %s and %s: %w", DBFile, MetadataFile, err)
	}
	if info.IsDir() {
		if _, err := os.Stat(filepath.Join(abs, "oci-layout")); err == nil {
			return unpackLayout(ctx, abs, src, tmp, ref, maxDBSize, log)
		}
		if _, err := os.Stat(filepath.Join(abs, DBFile)); err == nil {
			return copyDatabase(abs, tmp, maxDBSize)
		}
		return "", fmt.Errorf("the directory is neither an OCI layout (no oci-layout file) nor a database directory (no %s)", DBFile)
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	magic := make([]byte, 2)
	if _, err := io.ReadFull(f, magic); err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
		h := sha256.New()
		if err := extractDB(ctx, io.TeeReader(f, h), tmp, maxDBSize, log); err != nil {
			return "", err
		}
		if _, err := io.Copy(h, f); err != nil {
			return "", fmt.Errorf("read: %w", err)
		}
		return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
	}
	if filepath.Base(abs) == DBFile {
		return copyDatabase(filepath.Dir(abs), tmp, maxDBSize)
	}
	return "", errors.New("not a gzipped tar (db.tar.gz), an OCI layout directory, a database directory or a trivy.db file")
}

// copyDatabase copies trivy.db and metadata.json from the database
// directory from into tmp and returns trivy.db's digest.
func copyDatabase(from, tmp string, maxDBSize int64) (string, error) {
	var digest string
	for _, name := range []string{DBFile, MetadataFile} {
		limit := maxDBSize
		if name == MetadataFile {
			limit = maxMetadataSize
		}
		d, err := copyFile(filepath.Join(from, name), filepath.Join(tmp, name), limit)
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s has no %s: a database directory holds both %s and %s", from, name, DBFile, MetadataFile)
		}
		if err != nil {
			return "", err
		}
		if name == DBFile {
			digest = d
		}
	}
	return digest, nil
}

// copyFile copies the regular file from to the new file to, refusing one
// over limit bytes, and returns the digest of what it copied.
func copyFile(from, to string, limit int64) (string, error) {
	in, err := os.Open(from)
	if err != nil {
		return "", err
	}
	defer func() { _ = in.Close() }()
	info, err := in.Stat()
	if err != nil {
		return "", err
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", from)
	}
	if info.Size() > limit {
		return "", fmt.Errorf("%w: %s is %d bytes, over the %d-byte limit", errUnsafeArchive, from, info.Size(), limit)
	}
	h := sha256.New()
	if err := writeEntry(to, io.TeeReader(in, h), info.Size()); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// unpackLayout extracts the database artifact of the OCI layout at abs.
func unpackLayout(ctx context.Context, abs, src, tmp, ref string, maxDBSize int64, log *slog.Logger) (string, error) {
	p, err := layout.FromPath(abs)
	if err != nil {
		return "", fmt.Errorf("read OCI layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return "", fmt.Errorf("read OCI layout index: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return "", fmt.Errorf("read OCI layout index: %w", err)
	}
	desc, err := pickManifest(im.Manifests, ref)
	if err != nil {
		return "", err
	}
	if !desc.MediaType.IsImage() {
		return "", fmt.Errorf("the layout's entry %s is a %s, not an artifact manifest", desc.Digest, desc.MediaType)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		return "", fmt.Errorf("read the layout's manifest %s: %w", desc.Digest, err)
	}
	// The manifest's bytes must be what the index names.
	raw, err := img.RawManifest()
	if err != nil {
		return "", fmt.Errorf("read the layout's manifest %s: %w", desc.Digest, err)
	}
	if got, _, _ := v1.SHA256(bytes.NewReader(raw)); got != desc.Digest {
		return "", fmt.Errorf("%w: the layout's manifest %s hashes to %s", errDigestMismatch, desc.Digest, got)
	}
	if err := extractArtifact(ctx, img, src+"@"+desc.Digest.String(), tmp, maxDBSize, log); err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

// pickManifest returns the one entry of an OCI layout's index, or the one
// ref names (by ref.name annotation or digest).
func pickManifest(ms []v1.Descriptor, ref string) (v1.Descriptor, error) {
	var names []string
	for _, m := range ms {
		if ref == "" && len(ms) == 1 {
			return m, nil
		}
		n := m.Annotations[ociRefName]
		if ref != "" && (n == ref || m.Digest.String() == ref) {
			return m, nil
		}
		names = append(names, cmp.Or(n, m.Digest.String()))
	}
	switch {
	case len(ms) == 0:
		return v1.Descriptor{}, errors.New("the OCI layout's index lists no manifest")
	case ref == "":
		return v1.Descriptor{}, fmt.Errorf("the OCI layout holds %d manifests (%s): pick one with --ref", len(ms), strings.Join(names, ", "))
	}
	return v1.Descriptor{}, fmt.Errorf("the OCI layout has no manifest named %q (it has %s)", ref, strings.Join(names, ", "))
}
