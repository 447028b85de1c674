package scan

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	rpmver "github.com/knqyf263/go-rpm-version"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// redHatSource gives Red Hat's CPE-keyed advisories (see vulndb.DB).
type redHatSource interface {
	RedHatCPEs(ctx context.Context, contentSets, nvrs []string) ([]int, error)
	RedHatAdvisories(ctx context.Context, pkgName string, cpes []int) ([]vulndb.Advisory, error)
}

// redHatDriver is Trivy's Red Hat detector, which serves Red Hat
// Enterprise Linux (UBI included) and CentOS: advisories chosen by the
// CPEs of the package's content sets or image build, unfixed ones
// reported with Red Hat's status, severities Red Hat's own.
var redHatDriver = driver{
	key: modularName, compared: fullVersion, installed: fullVersion, format: ospkg.RPM,
	redHat: true, unfixed: true, status: true, vendorIDs: true, normalizeFixed: true,
}

// defaultContentSets are the content sets Trivy assumes, by major
// release, for packages without build information (images not built by
// Red Hat's build system, and CentOS).
var defaultContentSets = map[string][]string{
	"6": {"rhel-6-server-rpms", "rhel-6-server-extras-rpms"},
	"7": {"rhel-7-server-rpms", "rhel-7-server-extras-rpms"},
	"8": {"rhel-8-for-x86_64-baseos-rpms", "rhel-8-for-x86_64-appstream-rpms"},
	"9": {"rhel-9-for-x86_64-baseos-rpms", "rhel-9-for-x86_64-appstream-rpms"},
}

// genericSuffix is the "__8"-style suffix Red Hat's build system appends to
// content sets; extended-support suffixes such as "__9_DOT_2" are kept.
var genericSuffix = regexp.MustCompile(`__\d+$`)

// redHatKeys returns the content sets and build NVRs whose CPEs select a
// package's advisories.
func redHatKeys(p ospkg.Package, major string) (contentSets, nvrs []string) {
	if p.BuildInfo == nil {
		contentSets = defaultContentSets[major]
	} else {
		contentSets = p.BuildInfo.ContentSets
		nvrs = []string{p.BuildInfo.NVR + "-" + p.BuildInfo.Arch}
	}
	out := make([]string, len(contentSets))
	for i, s := range contentSets {
		out[i] = genericSuffix.ReplaceAllString(s, "")
	}
	return out, nvrs
}

// matchRedHat matches one package of a Red Hat or CentOS image of major
// release major, as Trivy does: the advisories of the package (module
// stream prefixed for modular packages) whose CPEs meet the package's;
// those for other architectures left out unless the package is noarch;
// one advisory per CVE, the highest fixed version winning; unfixed ones
// always reported, fixed ones when the installed version is older.
func (d driver) matchRedHat(ctx context.Context, src advisorySource, major string, p ospkg.Package) ([]match, error) {
	rh, ok := src.(redHatSource)
	if !ok {
		return nil, errors.New("the vulnerability database has no Red Hat data")
	}
	name, _ := d.key(p)
	sets, nvrs := redHatKeys(p, major)
	cpes, err := rh.RedHatCPEs(ctx, sets, nvrs)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", p.Name, err)
	}
	advs, err := rh.RedHatAdvisories(ctx, name, cpes)
	if errors.Is(err, vulndb.ErrNoRedHatCPE) {
		return nil, fmt.Errorf("package %s: content sets %v, image build %v: %w; the database may predate them (see https://github.com/aquasecurity/trivy-db/issues/435)",
			p.Name, sets, nvrs, err)
	}
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", p.Name, err)
	}

	var ids []string
	best := map[string]vulndb.Advisory{}
	for _, adv := range advs {
		if len(adv.Arches) != 0 && p.Arch != "noarch" && !slices.Contains(adv.Arches, p.Arch) {
			continue
		}
		cur, seen := best[adv.VulnerabilityID]
		switch {
		case !seen:
			ids = append(ids, adv.VulnerabilityID)
			best[adv.VulnerabilityID] = adv
		case rpmver.NewVersion(cur.FixedVersion).LessThan(rpmver.NewVersion(adv.FixedVersion)):
			best[adv.VulnerabilityID] = adv
		}
	}
	slices.Sort(ids)
	installed := rpmver.NewVersion(d.compared(p))
	var out []match
	for _, id := range ids {
		adv := best[id]
		if adv.FixedVersion != "" && !installed.LessThan(rpmver.NewVersion(adv.FixedVersion)) {
			continue
		}
		adv.DataSource = vulndb.DataSource{} // Trivy's Red Hat findings name none
		out = append(out, match{pkg: p, adv: adv, installed: d.installed(p), fixed: normalizeRPM(adv.FixedVersion)})
	}
	return out, nil
}

// redHatFinding sets the severity fields of a Red Hat finding as Trivy
// does: Red Hat's severity of the CVE for the product, whatever it is
// (UNKNOWN included), with "redhat" as its source and in VendorSeverity.
func redHatFinding(f *DetectedVulnerability, m match, vuln *vulndb.Vulnerability) {
	f.Severity = m.adv.Severity.String()
	f.SeveritySource = vulndb.RedHatSeveritySource
	f.VendorSeverity = nil
	if vuln == nil {
		return
	}
	vs := maps.Clone(vuln.VendorSeverity)
	if vs == nil {
		vs = map[string]vulndb.Severity{}
	}
	vs[vulndb.RedHatSeveritySource] = m.adv.Severity
	f.VendorSeverity = make(map[string]int, len(vs))
	for src, s := range vs {
		f.VendorSeverity[src] = int(s)
	}
}

// majorVersion is the release up to its first dot ("9" for "9.4").
func majorVersion(name string) string {
	major, _, _ := strings.Cut(strings.TrimSpace(name), ".")
	return major
}
