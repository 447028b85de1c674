package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for in, days := range map[string]int{"1d": 1, "7d": 7, "30d": 30, " 2d ": 2} {
		s, err := Parse(in)
		if err != nil || s.Days != days {
			t.Errorf("Parse(%q) = %v, %v; want %d days", in, s, err, days)
		}
	}
	s, _ := Parse("3d")
	if s.String() != "3d" || s.Interval() != 72*time.Hour {
		t.Errorf("3d: String %q Interval %v", s.String(), s.Interval())
	}
	bad := map[string]string{
		"0d":   "between 1d and 30d",
		"31d":  "between 1d and 30d",
		"-1d":  "not a whole number",
		"+1d":  "not a whole number",
		"1":    "followed by d",
		"d":    "followed by d",
		"":     "followed by d",
		"1.5d": "not a whole number",
		"1w":   "followed by d",
		"1D":   "followed by d",
	}
	for in, want := range bad {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", in, err, want)
		}
	}
}
