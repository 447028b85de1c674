package vulndbtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/patchloop/patchloop/internal/vulndb"
)

// Write creates dir if needed and writes d into it as trivy.db and
// metadata.json, replacing any database there.
func Write(dir string, d Database) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write test database: %w", err)
	}
	path := filepath.Join(dir, vulndb.DBFile)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("write test database: %w", err)
	}
	b, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("write test database %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error { return fill(tx, d) })
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write test database %s: %w", path, err)
	}

	meta := d.Metadata
	if meta.Version == 0 {
		meta.Version = vulndb.SchemaVersion
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("write test database metadata: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, vulndb.MetadataFile), mb, 0o644); err != nil {
		return fmt.Errorf("write test database metadata: %w", err)
	}
	return nil
}

// fill writes every bucket of d. The vulnerability and data-source buckets
// always exist, as in every database Trivy publishes.
func fill(tx *bolt.Tx, d Database) error {
	vulns, err := tx.CreateBucket([]byte("vulnerability"))
	if err != nil {
		return err
	}
	for _, v := range d.Vulnerabilities {
		value, err := encodeVulnerability(v)
		if err != nil {
			return fmt.Errorf("vulnerability %s: %w", v.ID, err)
		}
		if err := vulns.Put([]byte(v.ID), value); err != nil {
			return fmt.Errorf("vulnerability %s: %w", v.ID, err)
		}
	}
	sources, err := tx.CreateBucket([]byte("data-source"))
	if err != nil {
		return err
	}
	for _, p := range d.Platforms {
		if p.DataSource.ID != "" {
			value, err := encodeDataSource(p.DataSource)
			if err != nil {
				return fmt.Errorf("data source of %q: %w", p.Name, err)
			}
			if err := sources.Put([]byte(p.Name), value); err != nil {
				return fmt.Errorf("data source of %q: %w", p.Name, err)
			}
		}
		if err := putPlatform(tx, p); err != nil {
			return fmt.Errorf("platform %q: %w", p.Name, err)
		}
	}
	if d.RedHat != nil {
		if err := putRedHat(tx, sources, *d.RedHat); err != nil {
			return fmt.Errorf("red hat: %w", err)
		}
	}
	return nil
}

// putRedHat writes the "Red Hat CPE" bucket (repository, nvr and cpe
// sub-buckets, values JSON) and the "Red Hat" bucket.
func putRedHat(tx *bolt.Tx, sources *bolt.Bucket, r RedHat) error {
	const advisories, cpes = "Red Hat", "Red Hat CPE"
	if r.DataSource.ID != "" {
		value, err := encodeDataSource(r.DataSource)
		if err != nil {
			return err
		}
		if err := sources.Put([]byte(advisories), value); err != nil {
			return err
		}
	}
	root, err := tx.CreateBucketIfNotExists([]byte(cpes))
	if err != nil {
		return err
	}
	put := func(bucket string, key string, v any) error {
		b, err := root.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		value, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), value)
	}
	for repo, idx := range r.Repositories {
		if err := put("repository", repo, idx); err != nil {
			return fmt.Errorf("repository %s: %w", repo, err)
		}
	}
	for nvr, idx := range r.NVRs {
		if err := put("nvr", nvr, idx); err != nil {
			return fmt.Errorf("nvr %s: %w", nvr, err)
		}
	}
	for i, cpe := range r.CPEs {
		if err := put("cpe", strconv.Itoa(i), cpe); err != nil {
			return fmt.Errorf("cpe %d: %w", i, err)
		}
	}
	adv, err := tx.CreateBucketIfNotExists([]byte(advisories))
	if err != nil {
		return err
	}
	for name, list := range r.Packages {
		pkg, err := adv.CreateBucketIfNotExists([]byte(name))
		if err != nil {
			return fmt.Errorf("package %s: %w", name, err)
		}
		for _, a := range list {
			value, err := encodeRedHatAdvisory(a)
			if err != nil {
				return fmt.Errorf("package %s, %s: %w", name, a.Key, err)
			}
			if err := pkg.Put([]byte(a.Key), value); err != nil {
				return fmt.Errorf("package %s, %s: %w", name, a.Key, err)
			}
		}
	}
	return nil
}

// putPlatform writes a platform bucket with one bucket per package and one
// key per vulnerability ID.
func putPlatform(tx *bolt.Tx, p Platform) error {
	root, err := tx.CreateBucketIfNotExists([]byte(p.Name))
	if err != nil {
		return err
	}
	for pkgName, advs := range p.Packages {
		pkg, err := root.CreateBucketIfNotExists([]byte(pkgName))
		if err != nil {
			return fmt.Errorf("package %s: %w", pkgName, err)
		}
		byID := map[string][]vulndb.Advisory{}
		for _, a := range advs {
			byID[a.VulnerabilityID] = append(byID[a.VulnerabilityID], a)
		}
		for id, group := range byID {
			value, err := encodeAdvisories(p.Name, group)
			if err != nil {
				return fmt.Errorf("package %s: %w", pkgName, err)
			}
			if err := pkg.Put([]byte(id), value); err != nil {
				return fmt.Errorf("package %s, %s: %w", pkgName, id, err)
			}
		}
	}
	return nil
}
