package vulndb

// Severity is a vulnerability severity on Trivy's five-step scale. Its
// numeric values are the ones stored in the database.
type Severity int

// Severities from the lowest to the highest.
const (
	SeverityUnknown Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// String returns the upper-case name Trivy prints, such as "HIGH". Values
// outside the scale print as "UNKNOWN".
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return severityNames[SeverityUnknown]
	}
	return severityNames[s]
}

// ParseSeverity returns the severity named by s ("LOW" … "CRITICAL"), or
// SeverityUnknown and false when s is not one of Trivy's names.
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range severityNames {
		if n == s {
			return Severity(i), true
		}
	}
	return SeverityUnknown, false
}

// severityFromCode turns a stored number into a Severity, treating numbers
// outside the scale as unknown.
func severityFromCode(n int) Severity {
	if n < 0 || n >= len(severityNames) {
		return SeverityUnknown
	}
	return Severity(n)
}
