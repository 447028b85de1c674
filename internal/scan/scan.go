package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/platform"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// Options configure Scan. The zero value reports fixable findings of every
// severity, without an inventory cache.
type Options struct {
	// IncludeUnfixed also reports findings without a fixed version (with
	// the vendor's status), as Trivy does without --ignore-unfixed.
	IncludeUnfixed bool
	// Severities keeps only findings of these severities; empty keeps all.
	Severities []vulndb.Severity
	// Cache, when set, stores inventories by the image's layer diffIDs, so
	// that rescanning an image reads none of its layers.
	Cache ospkg.Cache
	// ArtifactName is the image as the user named it, used in the report's
	// ArtifactName and result Target.
	ArtifactName string
	// Reference, RepoTags and RepoDigests go into the report's metadata.
	Reference   string
	RepoTags    []string
	RepoDigests []string
	// Ignore, when set, moves the findings its rules in force name to
	// each result's ModifiedFindings (see Ignore.Apply).
	Ignore *Ignore
	// Now gives the current time (end of life, report time); nil means
	// time.Now.
	Now func() time.Time
	// Logger receives debug information; nil means slog.Default().
	Logger *slog.Logger
}

// Reasons a report gives for an image it could not scan, besides ospkg's
// ReasonWindows and ReasonNoOS.
const (
	// ReasonNoAdvisories: the OS is known but the database has no
	// advisories for it (Fedora, CentOS Stream and CoreOS have none).
	ReasonNoAdvisories = "the vulnerability database has no advisories keyed by package for this OS"
)

// Scan finds the OS-package vulnerabilities of img in db. An image whose OS
// cannot be scanned gives a report with no results whose Unsupported field
// says why; that is not an error. Errors name the image (ArtifactName) and,
// where one is at fault, the layer, file or package.
func Scan(ctx context.Context, img v1.Image, db *vulndb.DB, opts Options) (*Report, error) {
	if db == nil {
		return nil, errors.New("scan: no vulnerability database")
	}
	return scan(ctx, img, db, opts)
}

// database is what scan needs of a vulndb.DB.
type database interface {
	advisorySource
	vulnSource
	redHatSource
}

func scan(ctx context.Context, img v1.Image, db database, opts Options) (*Report, error) {
	// The context's logger (a task run's) wins over Options.Logger.
	log := logctx.From(ctx, opts.Logger)
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	name := opts.ArtifactName
	rep := &Report{
		SchemaVersion: SchemaVersion,
		CreatedAt:     now().UTC(),
		ArtifactName:  name,
		ArtifactType:  ArtifactTypeContainerImage,
	}
	md, platform, err := imageMetadata(img)
	if err != nil {
		return nil, fmt.Errorf("scan image %s: %w", name, err)
	}
	md.Reference, md.RepoTags, md.RepoDigests = opts.Reference, opts.RepoTags, opts.RepoDigests
	rep.Metadata, rep.Platform = md, platform

	var inspectOpts []ospkg.Option
	if opts.Cache != nil {
		inspectOpts = append(inspectOpts, ospkg.WithCache(opts.Cache))
	}
	inv, err := ospkg.Inspect(ctx, img, inspectOpts...)
	var unsupported *ospkg.UnsupportedOSError
	switch {
	case errors.As(err, &unsupported):
		log.DebugContext(ctx, "image not scanned", "image", name, "reason", unsupported.Reason)
		rep.Unsupported = unsupported.Reason
		return rep, nil
	case err != nil:
		return nil, fmt.Errorf("scan image %s: %w", name, err)
	}
	rep.Stats = Stats{Packages: len(inv.Packages), LayersRead: len(inv.LayersRead), FromCache: inv.FromCache}
	rep.Packages = packages(inv)
	family := inv.OS.Family
	rep.Metadata.OS = &OS{
		Family: string(family),
		Name:   inv.OS.Name,
		EOSL:   vulndb.EOSL(string(family), inv.OS.Name, now()),
	}
	log.InfoContext(ctx, "inventoried image", "image", name, "os", inv.OS.String(),
		"packages", len(inv.Packages), "layers_read", len(inv.LayersRead), "from_cache", inv.FromCache)

	d, ok := drivers[family]
	bucket, hasBucket := vulndb.PlatformAt(string(family), releaseOf(inv), now())
	if d.redHat {
		// Red Hat advisories are chosen by CPE; the major release picks
		// the content sets of packages without build information.
		bucket, hasBucket = majorVersion(inv.OS.Name), inv.OS.Name != ""
	}
	if !ok || !hasBucket {
		rep.Unsupported = fmt.Sprintf("%s (%s %s)", ReasonNoAdvisories, family, inv.OS.Name)
		return rep, nil
	}
	matches, warnings, err := matchPackages(ctx, log, db, d, bucket, inv.Packages)
	if err != nil {
		return nil, fmt.Errorf("scan image %s: %w", name, err)
	}
	rep.Warnings = warnings
	found, err := fillFindings(ctx, db, d, inv.OS, matches)
	if err != nil {
		return nil, fmt.Errorf("scan image %s: %w", name, err)
	}
	rep.Results = []Result{{
		Target:          fmt.Sprintf("%s (%s %s)", name, family, inv.OS.Name),
		Class:           ClassOSPkgs,
		Type:            string(family),
		Vulnerabilities: filterFindings(found, opts.Severities, opts.IncludeUnfixed),
	}}
	opts.Ignore.Apply(rep, now())
	return rep, nil
}

// releaseOf is the OS version the advisories are looked up by: for Alpine
// the release of the apk repositories when known (Trivy prefers it), else
// the detected OS version.
func releaseOf(inv *ospkg.Inventory) string {
	if inv.OS.Family == ospkg.Alpine && inv.Repository != nil && inv.Repository.Release != "" {
		return inv.Repository.Release
	}
	return inv.OS.Name
}

// imageMetadata reads the image's config and layer list (no layer content)
// and returns the report metadata and the image's platform.
func imageMetadata(img v1.Image) (Metadata, string, error) {
	var md Metadata
	cfg, err := img.ConfigFile()
	if err != nil {
		return md, "", fmt.Errorf("image config: %w", err)
	}
	id, err := img.ConfigName()
	if err != nil {
		return md, "", fmt.Errorf("image config digest: %w", err)
	}
	md.ImageID = id.String()
	md.ImageConfig = *cfg
	layers, err := imagefs.ImageLayers(img)
	if err != nil {
		return md, "", err
	}
	for _, l := range layers {
		md.DiffIDs = append(md.DiffIDs, l.DiffID.String())
		md.Layers = append(md.Layers, Layer{Digest: l.Digest.String(), DiffID: l.DiffID.String()})
	}
	return md, platform.String(cfg.Platform()), nil
}

// packages lists the inventory's packages for Report.Packages, sorted by
// name and version.
func packages(inv *ospkg.Inventory) []Package {
	out := make([]Package, 0, len(inv.Packages))
	for _, p := range inv.Packages {
		out = append(out, Package{
			ID:         p.ID,
			Name:       p.Name,
			Version:    p.FullVersion(),
			Arch:       p.Arch,
			SrcName:    p.SrcName,
			SrcVersion: p.SrcFullVersion(),
			PURL:       packageURL(inv.OS, p),
		})
	}
	slices.SortFunc(out, func(a, b Package) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version), strings.Compare(a.Arch, b.Arch))
	})
	return out
}
