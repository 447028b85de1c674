package vulndb

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names inside a database directory.
const (
	// DBFile is the bbolt database.
	DBFile = "trivy.db"
	// MetadataFile describes the database's schema version and age.
	MetadataFile = "metadata.json"
	// SourceFile records where Update downloaded the database from. Trivy
	// does not write it; it is patchloop's own sidecar.
	SourceFile = "source.json"
)

// SchemaVersion is the Trivy database schema this package reads.
const SchemaVersion = 2

// Metadata is the content of metadata.json.
type Metadata struct {
	// Version is the schema version; this package needs SchemaVersion.
	Version int `json:",omitempty"`
	// NextUpdate is when the publisher expects to publish a newer build.
	NextUpdate time.Time
	// UpdatedAt is when the database was built.
	UpdatedAt time.Time
	// DownloadedAt is when it was downloaded; zero if never recorded.
	DownloadedAt time.Time
}

// ReadMetadata reads metadata.json from the database directory dir.
func ReadMetadata(dir string) (Metadata, error) {
	path := filepath.Join(dir, MetadataFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Metadata{}, fmt.Errorf("read database metadata: %w", err)
	}
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return Metadata{}, fmt.Errorf("parse database metadata %s: %w", path, err)
	}
	return m, nil
}

// writeMetadata writes m as metadata.json in dir, in Trivy's layout.
func writeMetadata(dir string, m Metadata) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode database metadata: %w", err)
	}
	return writeFileSync(filepath.Join(dir, MetadataFile), append(b, '\n'))
}

// writeFileSync writes a new file and flushes it to disk, so that a later
// rename never exposes a partly written file.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
