package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// match is one advisory that affects one installed package, before the
// vulnerability's details are filled in.
type match struct {
	pkg       ospkg.Package
	adv       vulndb.Advisory // Status and Severity cleared unless the driver keeps them
	installed string
	fixed     string
}

// advisorySource gives the advisories of a package on a platform.
type advisorySource interface {
	Advisories(ctx context.Context, platform, pkgName string) ([]vulndb.Advisory, error)
}

// matchPackages matches every package against the advisories of platform
// with the rules of driver d. Packages whose installed version cannot be
// parsed are not matched; each gives a warning.
func matchPackages(ctx context.Context, log *slog.Logger, src advisorySource, d driver, platform string, pkgs []ospkg.Package) ([]match, []Warning, error) {
	var (
		out      []match
		warnings []Warning
	)
	for _, p := range pkgs {
		if p.Name == "gpg-pubkey" { // carries no real version
			continue
		}
		if p.ThirdParty() { // the distribution's advisories do not cover it
			log.DebugContext(ctx, "skipping third-party package", "package", p.Name, "vendor", p.Vendor)
			continue
		}
		ms, err := d.matchPackage(ctx, log, src, platform, p)
		var unparsable *unparsableError
		switch {
		case errors.As(err, &unparsable):
			log.DebugContext(ctx, "package not checked: unparsable version", "package", p.Name, "version", unparsable.version, "err", unparsable.err)
			warnings = append(warnings, Warning{
				PkgName:          p.Name,
				InstalledVersion: unparsable.version,
				Message: fmt.Sprintf("package %s: installed version %q cannot be parsed (%v); its vulnerabilities were not checked",
					p.Name, unparsable.version, unparsable.err),
			})
			continue
		case err != nil:
			return nil, nil, err
		}
		out = append(out, ms...)
	}
	return out, warnings, nil
}

// unparsableError is the installed version of a package that the
// distribution's version ordering cannot parse.
type unparsableError struct {
	version string
	err     error
}

func (e *unparsableError) Error() string { return fmt.Sprintf("version %q: %v", e.version, e.err) }
func (e *unparsableError) Unwrap() error { return e.err }

// matchPackage matches one package.
func (d driver) matchPackage(ctx context.Context, log *slog.Logger, src advisorySource, platform string, p ospkg.Package) ([]match, error) {
	key, ok := d.key(p)
	if !ok {
		log.DebugContext(ctx, "skipping package", "package", p.Name, "version", p.FullVersion(), "reason", "modular package without module label")
		return nil, nil
	}
	if d.skipEmptyInstalled && p.FullVersion() == "" {
		return nil, nil
	}
	if d.redHat {
		return d.matchRedHat(ctx, src, platform, p)
	}
	advs, err := src.Advisories(ctx, platform, key)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", p.Name, err)
	}
	iv, err := d.format.ParseVersion(d.compared(p))
	if err != nil {
		if d.strict {
			return nil, fmt.Errorf("package %s: installed version: %w", p.Name, err)
		}
		// parseInstalled names the version; keep only its reason.
		if cause := errors.Unwrap(err); cause != nil {
			err = cause
		}
		return nil, &unparsableError{version: d.compared(p), err: err}
	}
	var out []match
	for _, adv := range advs {
		fixed, hit, err := d.affects(iv, p, adv)
		if err != nil {
			if d.strict {
				return nil, fmt.Errorf("package %s: advisory %s: %w", p.Name, adv.VulnerabilityID, err)
			}
			log.DebugContext(ctx, "skipping advisory with unparsable version", "package", p.Name, "vulnerability", adv.VulnerabilityID, "err", err)
			continue
		}
		if !hit {
			continue
		}
		if !d.status {
			adv.Status = vulndb.FixStatusUnknown
		}
		if !d.pkgSeverity {
			adv.Severity = vulndb.SeverityUnknown
		}
		out = append(out, match{pkg: p, adv: adv, installed: d.installed(p), fixed: fixed})
	}
	return out, nil
}

// affects decides whether adv affects the installed version iv of p, and
// returns the fixed version to report.
func (d driver) affects(iv ospkg.Version, p ospkg.Package, adv vulndb.Advisory) (fixed string, hit bool, err error) {
	if d.archFilter && !adv.AppliesTo(p.Arch) {
		return "", false, nil
	}
	if d.oracleFlavor && oracleFlavor(adv.FixedVersion) != oracleFlavor(p.Release) {
		return "", false, nil
	}
	if d.affected && adv.AffectedVersion != "" {
		// The issue was introduced after the installed version?
		older, err := olderThan(iv, adv.AffectedVersion)
		if err != nil {
			return "", false, fmt.Errorf("affected version: %w", err)
		}
		if older {
			return "", false, nil
		}
	}
	if adv.FixedVersion == "" && d.unfixed {
		return "", true, nil
	}
	less, err := olderThan(iv, adv.FixedVersion)
	if err != nil {
		return "", false, fmt.Errorf("fixed version: %w", err)
	}
	if !less {
		return "", false, nil
	}
	if d.normalizeFixed {
		return normalizeRPM(adv.FixedVersion), true, nil
	}
	return adv.FixedVersion, true, nil
}
