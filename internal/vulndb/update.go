package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/registry"
)

// DefaultMaxDBSize caps the size of a downloaded trivy.db (8 GiB, about ten
// times its size in 2025).
const DefaultMaxDBSize int64 = 8 << 30

// recentDownload is how long after a download Update skips another, as
// Trivy does, even once NextUpdate has passed.
const recentDownload = time.Hour

// downloadPrefix names the temporary directories Update downloads into.
const downloadPrefix = ".download-"

// UpdateOptions configure Update. The zero value downloads from
// DefaultRepositories with the credentials of the Docker config.
type UpdateOptions struct {
	// Repositories are the artifact references to try in order, for
	// example a mirror in the user's own registry; empty means
	// DefaultRepositories. A reference without a tag gets ":2".
	Repositories []string
	// Force downloads even when the installed database is fresh.
	Force bool
	// Registry is the registry client, which carries credentials, the
	// insecure setting and retries; nil means registry.New(): the Docker
	// keychain, and TLS except for registries on loopback addresses.
	Registry *registry.Client
	// MaxDBSize caps the size of trivy.db; zero means DefaultMaxDBSize.
	MaxDBSize int64
	// Now gives the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// UpdateResult says what Update did.
type UpdateResult struct {
	// Updated is true when a new database was installed.
	Updated bool
	// Reason explains a skipped download.
	Reason string
	// Source is where the installed database came from; zero when the
	// download was skipped.
	Source Source
	// Metadata is the installed database's metadata.
	Metadata Metadata
}

// Update makes sure dir holds a current database. Unless opts.Force is set
// it does nothing while the installed database's NextUpdate is in the
// future or it was downloaded less than an hour ago. Otherwise it downloads
// the artifact from the first repository that serves a valid one, checks
// it, records its source and moves it into place; a failed download leaves
// the installed database untouched.
func Update(ctx context.Context, dir string, opts UpdateOptions) (UpdateResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if !opts.Force {
		if meta, reason, fresh := freshness(dir, now()); fresh {
			log.InfoContext(ctx, "vulnerability database is up to date", "dir", dir, "reason", reason)
			return UpdateResult{Reason: reason, Metadata: meta}, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return UpdateResult{}, fmt.Errorf("create database directory: %w", err)
	}
	removeStaleDownloads(ctx, dir, now(), log)

	repos := opts.Repositories
	if len(repos) == 0 {
		repos = DefaultRepositories
	}
	f := fetcher{client: opts.Registry, maxDBSize: opts.MaxDBSize, log: log}
	if f.client == nil {
		f.client = registry.New(registry.WithLogger(log))
	}
	if f.maxDBSize <= 0 {
		f.maxDBSize = DefaultMaxDBSize
	}

	var errs []error
	for _, repo := range repos {
		res, err := download(ctx, f, repo, dir, now)
		if err == nil {
			// The repositories that failed before this one are reported
			// here, once; when all fail, the error returned tells it all.
			for i, err := range errs {
				log.WarnContext(ctx, "vulnerability database download failed; the next repository served it", "repository", repos[i], "err", err)
			}
			log.InfoContext(ctx, "vulnerability database updated", "dir", dir,
				"repository", repo, "digest", res.Source.Digest, "updated_at", res.Metadata.UpdatedAt)
			return res, nil
		}
		if ctx.Err() != nil {
			return UpdateResult{}, fmt.Errorf("update vulnerability database: %w", err)
		}
		log.DebugContext(ctx, "vulnerability database download failed", "repository", repo, "err", err)
		errs = append(errs, err)
	}
	return UpdateResult{}, fmt.Errorf("update vulnerability database in %s: every repository failed (%s): %w",
		dir, offlineHint, errors.Join(errs...))
}

// offlineHint says what to do without access to the default repositories.
const offlineHint = "without internet access, mirror the artifact into your registry and pass --db-repository, " +
	"or load a copy with `patchloop db import FILE`"

// freshness reports whether the database in dir needs no download at now,
// and why.
func freshness(dir string, now time.Time) (Metadata, string, bool) {
	if _, err := os.Stat(filepath.Join(dir, DBFile)); err != nil {
		return Metadata{}, "", false
	}
	meta, err := ReadMetadata(dir)
	if err != nil || meta.Version != SchemaVersion {
		return Metadata{}, "", false
	}
	switch {
	case now.Before(meta.NextUpdate):
		return meta, fmt.Sprintf("next update due at %s", meta.NextUpdate.UTC().Format(time.RFC3339)), true
	case now.Before(meta.DownloadedAt.Add(recentDownload)):
		return meta, fmt.Sprintf("downloaded less than %s ago", recentDownload), true
	}
	return meta, "", false
}

// download fetches the artifact at repo into a fresh temporary directory
// inside dir, checks it and moves it into place.
func download(ctx context.Context, f fetcher, repo, dir string, now func() time.Time) (UpdateResult, error) {
	tmp, err := os.MkdirTemp(dir, downloadPrefix)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("create download directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	digest, err := f.fetch(ctx, repo, tmp)
	if err != nil {
		return UpdateResult{}, err
	}
	src := Source{Repository: repo, Digest: digest}
	meta, err := installChecked(ctx, tmp, dir, "database from "+repo, src, now())
	if err != nil {
		return UpdateResult{}, err
	}
	return UpdateResult{Updated: true, Source: src, Metadata: meta}, nil
}

// installChecked opens the database just written to tmp, which checks
// it (label names it in that error), stamps its metadata with downloadedAt,
// records src, and installs it in dir; it returns the metadata installed.
func installChecked(ctx context.Context, tmp, dir, label string, src Source, downloadedAt time.Time) (Metadata, error) {
	db, err := Open(ctx, tmp)
	if err != nil {
		return Metadata{}, fmt.Errorf("%s: %w", label, err)
	}
	meta := db.Metadata()
	if err := db.Close(); err != nil {
		return Metadata{}, err
	}
	meta.DownloadedAt = downloadedAt.UTC()
	if err := writeMetadata(tmp, meta); err != nil {
		return Metadata{}, err
	}
	if err := writeSource(tmp, src); err != nil {
		return Metadata{}, err
	}
	if err := install(tmp, dir); err != nil {
		return Metadata{}, err
	}
	return meta, nil
}

// install moves the checked files from tmp into dir. Each rename is atomic,
// so readers see either the old or the new trivy.db, never a partial one.
// The database goes first and the metadata last: if interrupted, the old
// metadata makes the next Update download again.
func install(tmp, dir string) error {
	for _, name := range []string{DBFile, SourceFile, MetadataFile} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("install downloaded database: %w", err)
		}
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("install downloaded database: %w", err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("install downloaded database: sync %s: %w", dir, err)
	}
	return nil
}

// removeStaleDownloads deletes temporary directories left by downloads
// that were killed more than a day ago.
func removeStaleDownloads(ctx context.Context, dir string, now time.Time, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), downloadPrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < 24*time.Hour {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.WarnContext(ctx, "cannot remove stale download", "dir", e.Name(), "err", err)
		}
	}
}
