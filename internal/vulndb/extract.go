package vulndb

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
)

// maxMetadataSize caps metadata.json, a few hundred bytes in practice.
const maxMetadataSize = 1 << 20

// errUnsafeArchive marks an artifact whose archive tries to escape the
// target directory, links elsewhere, or is oversized.
var errUnsafeArchive = errors.New("unsafe database archive")

// extractDB reads the gzipped tar r and writes its trivy.db and
// metadata.json into dir, which must be empty. It rejects entries with
// absolute or parent-relative names, links and devices, duplicates, and
// files over their size cap; other plain files and directories are
// skipped. Both files must be present.
func extractDB(ctx context.Context, r io.Reader, dir string, maxDBSize int64, log *slog.Logger) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("read database archive: %w", err)
	}
	defer func() { _ = zr.Close() }()

	limits := map[string]int64{DBFile: maxDBSize, MetadataFile: maxMetadataSize}
	seen := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("extract database archive: %w", err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read database archive: %w", err)
		}
		name, err := entryName(hdr)
		if err != nil {
			return err
		}
		limit, wanted := limits[name]
		if !wanted || hdr.Typeflag == tar.TypeDir {
			log.DebugContext(ctx, "skipping archive entry", "name", hdr.Name)
			continue
		}
		if seen[name] {
			return fmt.Errorf("%w: %s appears twice", errUnsafeArchive, name)
		}
		seen[name] = true
		if hdr.Size > limit {
			return fmt.Errorf("%w: %s is %d bytes, over the %d-byte limit", errUnsafeArchive, name, hdr.Size, limit)
		}
		if err := writeEntry(filepath.Join(dir, name), tr, hdr.Size); err != nil {
			return err
		}
	}
	for name := range limits {
		if !seen[name] {
			return fmt.Errorf("database archive has no %s", name)
		}
	}
	return nil
}

// entryName returns the cleaned name of a safe archive entry, or an error
// for one that could write outside the target directory.
func entryName(hdr *tar.Header) (string, error) {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	default:
		return "", fmt.Errorf("%w: entry %q has type %q; only plain files are allowed", errUnsafeArchive, hdr.Name, hdr.Typeflag)
	}
	name := path.Clean(hdr.Name)
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", fmt.Errorf("%w: entry %q points outside the database directory", errUnsafeArchive, hdr.Name)
	}
	return name, nil
}

// writeEntry copies exactly size bytes of r into a new file at target and
// flushes it to disk.
func writeEntry(target string, r io.Reader, size int64) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("extract database archive: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("extract %s from database archive: %w", filepath.Base(target), err)
	}
	return nil
}
