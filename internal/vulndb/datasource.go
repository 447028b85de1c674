package vulndb

import (
	"encoding/json"
	"fmt"
)

// DataSource names where a platform's advisories come from, as recorded in
// the database's data-source bucket.
type DataSource struct {
	// ID is Trivy's source ID, e.g. "debian", "ubuntu", "alpine".
	ID string
	// Name is the human name, e.g. "Debian Security Tracker".
	Name string
	// URL is the source's home page.
	URL string
	// BaseID is the source this one derives from, when it does (for
	// example a vendor that rebuilds Debian); severities then come from it.
	BaseID string
}

// decodeDataSource parses one value of the data-source bucket.
func decodeDataSource(platform string, value []byte) (DataSource, error) {
	var ds DataSource
	if err := json.Unmarshal(value, &ds); err != nil {
		return DataSource{}, fmt.Errorf("decode data source of %q: %w", platform, err)
	}
	return ds, nil
}
