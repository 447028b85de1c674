package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Bucket names of the Red Hat data. Red Hat's advisories are not kept per
// release: the "Red Hat" bucket holds, per package, entries that name the
// CPEs (products and streams) they concern, by index; the "Red Hat CPE"
// bucket maps content sets ("repository") and image build NVRs ("nvr") to
// those indices.
const (
	redHatBucket     = "Red Hat"
	redHatCPEBucket  = "Red Hat CPE"
	redHatRepoBucket = "repository"
	redHatNVRBucket  = "nvr"
)

// ErrNoRedHatCPE means none of the content sets and NVRs of a Red Hat
// image maps to a CPE in the database, so its packages cannot be matched.
var ErrNoRedHatCPE = errors.New("no CPE in the vulnerability database for the image's Red Hat content sets")

// RedHatSeveritySource is the severity source ID of Red Hat's own
// per-CVE severities.
const RedHatSeveritySource = "redhat"

// redHatAdvisory is a value of the "Red Hat" bucket: one per package and
// advisory key (an RHSA ID for fixed vulnerabilities, a CVE ID for
// unfixed ones).
type redHatAdvisory struct {
	Entries []redHatEntry
}

// redHatEntry is one statement of an advisory for a set of CPEs.
type redHatEntry struct {
	FixedVersion string
	Cves         []redHatCVE
	Arches       []string
	Status       int
	Affected     []int // CPE indices
}

// redHatCVE is one CVE an entry resolves, with Red Hat's severity of it
// (which may differ per product).
type redHatCVE struct {
	ID       string
	Severity int
}

// RedHatCPEs returns the CPE indices that the content sets (repositories)
// and image build NVRs ("name-version-release-arch") map to, without
// duplicates. Keys the database does not know add nothing.
func (d *DB) RedHatCPEs(ctx context.Context, contentSets, nvrs []string) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("red hat CPEs: %w", err)
	}
	var out []int
	err := d.view(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(redHatCPEBucket))
		if root == nil {
			return nil
		}
		for _, q := range []struct {
			bucket string
			keys   []string
		}{{redHatRepoBucket, contentSets}, {redHatNVRBucket, nvrs}} {
			b := root.Bucket([]byte(q.bucket))
			if b == nil {
				continue
			}
			for _, k := range q.keys {
				v := b.Get([]byte(k))
				if len(v) == 0 {
					continue
				}
				var idx []int
				if err := json.Unmarshal(v, &idx); err != nil {
					return fmt.Errorf("decode %s/%s/%s: %w", redHatCPEBucket, q.bucket, k, err)
				}
				out = append(out, idx...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("red hat CPEs: %w", err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// RedHatAdvisories returns the advisories of the "Red Hat" bucket for a
// package (for a modular package, "module:stream::name") that concern one
// of the given CPE indices (see RedHatCPEs): one per entry and CVE, with
// Red Hat's severity of that CVE, the fixed version, architectures and
// status. Advisories keyed by an RHSA ID carry it in VendorIDs. They are
// ordered by key, entry and CVE. No CPE at all is an error wrapping
// ErrNoRedHatCPE, as in Trivy.
func (d *DB) RedHatAdvisories(ctx context.Context, pkgName string, cpes []int) ([]Advisory, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("red hat advisories for %s: %w", pkgName, err)
	}
	if len(cpes) == 0 {
		return nil, fmt.Errorf("red hat advisories for %s: %w", pkgName, ErrNoRedHatCPE)
	}
	src := d.sources[redHatBucket]
	var out []Advisory
	err := d.view(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(redHatBucket))
		if root == nil {
			return nil
		}
		pkg := root.Bucket([]byte(pkgName))
		if pkg == nil {
			return nil
		}
		return pkg.ForEach(func(k, v []byte) error {
			if len(v) == 0 {
				return nil
			}
			var a redHatAdvisory
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode advisory %s: %w", k, err)
			}
			key := string(k)
			for _, e := range a.Entries {
				if !intersects(cpes, e.Affected) {
					continue
				}
				for _, c := range e.Cves {
					adv := Advisory{
						VulnerabilityID: key,
						Arches:          e.Arches,
						Status:          fixStatusFromCode(e.Status),
						Severity:        severityFromCode(c.Severity),
						FixedVersion:    e.FixedVersion,
						DataSource:      src,
					}
					if !strings.HasPrefix(key, "CVE-") {
						adv.VulnerabilityID, adv.VendorIDs = c.ID, []string{key}
					}
					out = append(out, adv)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("red hat advisories for %s: %w", pkgName, err)
	}
	return out, nil
}

// intersects reports whether the sorted set a shares an element with b.
func intersects(a, b []int) bool {
	for _, x := range b {
		if _, ok := slices.BinarySearch(a, x); ok {
			return true
		}
	}
	return false
}
