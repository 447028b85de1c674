package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Source records where a downloaded database came from.
type Source struct {
	// Repository is the reference downloaded, e.g. "ghcr.io/aquasecurity/trivy-db:2".
	Repository string `json:"repository"`
	// Digest is the artifact's manifest digest, e.g. "sha256:…".
	Digest string `json:"digest"`
}

// readSource reads the sidecar in dir. A missing sidecar (a database not
// downloaded by Update) gives the zero Source.
func readSource(dir string) (Source, error) {
	path := filepath.Join(dir, SourceFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Source{}, nil
	}
	if err != nil {
		return Source{}, fmt.Errorf("read database source: %w", err)
	}
	var s Source
	if err := json.Unmarshal(b, &s); err != nil {
		return Source{}, fmt.Errorf("parse database source %s: %w", path, err)
	}
	return s, nil
}

// writeSource writes the sidecar in dir.
func writeSource(dir string, s Source) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode database source: %w", err)
	}
	return writeFileSync(filepath.Join(dir, SourceFile), append(b, '\n'))
}
