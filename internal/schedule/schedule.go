// Package schedule parses a workflow's cadence and computes its cycles.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits of a schedule, in days, as the reference workflow allows.
const (
	MinDays = 1
	MaxDays = 30
)

// Schedule is a cadence of whole days.
type Schedule struct {
	Days int
}

// Parse reads a schedule written as Nd, 1 ≤ N ≤ 30 (for example "1d" or
// "7d").
func Parse(s string) (Schedule, error) {
	v := strings.TrimSpace(s)
	num, ok := strings.CutSuffix(v, "d")
	if !ok || num == "" {
		return Schedule{}, fmt.Errorf("schedule %q: write it as a number of days followed by d, from %dd to %dd (for example 1d or 7d)", s, MinDays, MaxDays)
	}
	n, err := strconv.Atoi(num)
	if err != nil || strings.ContainsAny(num, "+-") {
		return Schedule{}, fmt.Errorf("schedule %q: %q is not a whole number of days; use %dd to %dd", s, num, MinDays, MaxDays)
	}
	if n < MinDays || n > MaxDays {
		return Schedule{}, fmt.Errorf("schedule %q: must be between %dd and %dd", s, MinDays, MaxDays)
	}
	return Schedule{Days: n}, nil
}

// String returns the schedule as Nd.
func (s Schedule) String() string { return strconv.Itoa(s.Days) + "d" }

// Interval is the time between two cycles.
func (s Schedule) Interval() time.Duration { return time.Duration(s.Days) * 24 * time.Hour }
