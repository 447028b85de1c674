package scan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxReportSize caps the size of a report ReadReport accepts.
const maxReportSize = 512 << 20

// ReadReport decodes one report in Trivy's JSON format (schema version 2),
// as written by Trivy (`trivy image -f json`) or by Patchloop. Fields it
// does not know are ignored, so reports of newer Trivy versions are read
// too. A report of another schema version, a JSON array or trailing data is
// an error.
func ReadReport(r io.Reader) (*Report, error) {
	lr := &io.LimitedReader{R: r, N: maxReportSize + 1}
	dec := json.NewDecoder(lr)
	var rep Report
	if err := dec.Decode(&rep); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return nil, fmt.Errorf("read report: want one Trivy JSON report object, got a JSON %s", te.Value)
		}
		return nil, fmt.Errorf("read report: %w", err)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("read report: larger than %d MiB", maxReportSize>>20)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("read report: unexpected data after the report")
	}
	if rep.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("read report: schema version %d, want %d (a Trivy JSON report from `trivy image -f json`)", rep.SchemaVersion, SchemaVersion)
	}
	return &rep, nil
}
