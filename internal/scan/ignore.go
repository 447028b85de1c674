package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// DefaultIgnoreFile is the ignore file `scan` and `patch` read from the
// working directory when no other is named, as Trivy does.
const DefaultIgnoreFile = ".trivyignore"

// maxIgnoreFile bounds the size of an ignore file.
const maxIgnoreFile = 4 << 20

// Finding types and statuses of a ModifiedFinding, as Trivy names them.
const (
	FindingTypeVulnerability = "vulnerability"
	FindingStatusIgnored     = "ignored"
)

// IgnoreRule is one line of an ignore file: a vulnerability ID, and the
// date from which the line no longer applies.
type IgnoreRule struct {
	// ID is the vulnerability ID ("CVE-2024-0727") or vendor advisory ID.
	ID string
	// Expires is the start (UTC) of the "exp:" date; zero when the line
	// never expires.
	Expires time.Time
	// Line is the 1-based line number, for messages.
	Line int
}

// Ignore is a parsed ignore file in Trivy's .trivyignore format: one
// vulnerability ID per line, optionally followed by " exp:YYYY-MM-DD";
// blank lines and lines starting with '#' are skipped, as are any other
// words after the ID.
type Ignore struct {
	// Source names the file, as written in ModifiedFinding.Source.
	Source string
	// Rules are the file's lines, in order.
	Rules []IgnoreRule
}

// ParseIgnore reads an ignore file; source names it in errors and in the
// report. A malformed "exp:" date is an error naming the line.
func ParseIgnore(r io.Reader, source string) (*Ignore, error) {
	ig := &Ignore{Source: source}
	sc := bufio.NewScanner(io.LimitReader(r, maxIgnoreFile+1))
	sc.Buffer(make([]byte, 0, 4096), maxIgnoreFile+1)
	n, read := 0, 0
	for sc.Scan() {
		n++
		read += len(sc.Bytes()) + 1
		if read > maxIgnoreFile+1 {
			return nil, fmt.Errorf("ignore file %s: larger than %d bytes", source, maxIgnoreFile)
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		rule := IgnoreRule{ID: fields[0], Line: n}
		for _, f := range fields[1:] {
			date, ok := strings.CutPrefix(f, "exp:")
			if !ok {
				continue
			}
			t, err := time.Parse(time.DateOnly, date)
			if err != nil {
				return nil, fmt.Errorf("ignore file %s line %d: %s: exp: want a date as YYYY-MM-DD, got %q", source, n, rule.ID, date)
			}
			rule.Expires = t
		}
		ig.Rules = append(ig.Rules, rule)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("ignore file %s: larger than %d bytes", source, maxIgnoreFile)
		}
		return nil, fmt.Errorf("ignore file %s: %w", source, err)
	}
	return ig, nil
}

// LoadIgnore reads the ignore file at path. When optional is true a
// missing file gives (nil, nil): that is how the default .trivyignore is
// read.
func LoadIgnore(path string, optional bool) (*Ignore, error) {
	data, err := os.ReadFile(path)
	if optional && errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ignore file: %w", err)
	}
	return ParseIgnore(bytes.NewReader(data), path)
}

// match returns the first rule in force at now that names v's
// vulnerability ID or one of its vendor IDs.
func (ig *Ignore) match(v DetectedVulnerability, now time.Time) (IgnoreRule, bool) {
	for _, r := range ig.Rules {
		if !r.Expires.IsZero() && !now.Before(r.Expires) {
			continue
		}
		if r.ID == v.VulnerabilityID || slices.Contains(v.VendorIDs, r.ID) {
			return r, true
		}
	}
	return IgnoreRule{}, false
}

// Expired returns the rules whose date has passed at now; they no longer
// ignore anything.
func (ig *Ignore) Expired(now time.Time) []IgnoreRule {
	if ig == nil {
		return nil
	}
	var out []IgnoreRule
	for _, r := range ig.Rules {
		if !r.Expires.IsZero() && !now.Before(r.Expires) {
			out = append(out, r)
		}
	}
	return out
}

// Apply moves the findings of rep that a rule in force at now names out
// of each result's Vulnerabilities and into its ModifiedFindings, with
// status "ignored" and the file as source, as Trivy reports suppressed
// findings. It returns how many it moved. A nil Ignore does nothing.
func (ig *Ignore) Apply(rep *Report, now time.Time) int {
	if ig == nil || rep == nil {
		return 0
	}
	moved := 0
	for i := range rep.Results {
		res := &rep.Results[i]
		kept := res.Vulnerabilities[:0:0]
		for _, v := range res.Vulnerabilities {
			r, ok := ig.match(v, now)
			if !ok {
				kept = append(kept, v)
				continue
			}
			res.ModifiedFindings = append(res.ModifiedFindings, ModifiedFinding{
				Type:      FindingTypeVulnerability,
				Status:    FindingStatusIgnored,
				Statement: fmt.Sprintf("%s line %d", ig.Source, r.Line),
				Source:    ig.Source,
				Finding:   &v,
			})
			moved++
		}
		res.Vulnerabilities = kept
	}
	return moved
}

// Ignored returns the number of findings of the report moved to
// ModifiedFindings with status "ignored".
func (r *Report) Ignored() int {
	n := 0
	for _, res := range r.Results {
		for _, m := range res.ModifiedFindings {
			if m.Status == FindingStatusIgnored {
				n++
			}
		}
	}
	return n
}
