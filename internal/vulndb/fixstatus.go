package vulndb

// FixStatus is the vendor's state of a vulnerability for a package. Its
// numeric values are the ones Trivy stores in the database; the database
// only records it when there is no fixed version (Debian does, for
// instance, for "ignored" or "postponed" issues).
type FixStatus int

// Fix states, in Trivy's numbering.
const (
	FixStatusUnknown FixStatus = iota
	FixStatusNotAffected
	FixStatusAffected
	FixStatusFixed
	FixStatusUnderInvestigation
	FixStatusWillNotFix
	FixStatusFixDeferred
	FixStatusEndOfLife
)

var fixStatusNames = [...]string{
	"unknown",
	"not_affected",
	"affected",
	"fixed",
	"under_investigation",
	"will_not_fix",
	"fix_deferred",
	"end_of_life",
}

// String returns the name Trivy prints in reports, such as "will_not_fix".
// Values outside the list print as "unknown".
func (s FixStatus) String() string {
	if s < 0 || int(s) >= len(fixStatusNames) {
		return fixStatusNames[FixStatusUnknown]
	}
	return fixStatusNames[s]
}

// fixStatusFromCode turns a stored number into a FixStatus, treating
// numbers outside the list as unknown.
func fixStatusFromCode(n int) FixStatus {
	if n < 0 || n >= len(fixStatusNames) {
		return FixStatusUnknown
	}
	return FixStatus(n)
}
