package rpmdb

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRichNames(t *testing.T) {
	for dep, want := range map[string][]string{
		"(a or b)":                      {"a", "b"},
		"(a >= 1.0 and b)":              {"a", "b"},
		"(a if b)":                      {"a", "!b"},
		"(a if b else c)":               {"a", "b", "c", "!b"},
		"(a unless b)":                  {"a", "!b"},
		"(a or (b and rpmlib(X) >= 1))": {"a", "b"},
		"(foo(x86-64) with bar)":        {"bar", "foo(x86-64)"},
		"((a if b) or (c if d))":        {"a", "c", "!b", "!d"},
		"(a or a)":                      {"a"},
		"(a or)":                        nil,
		"(a bogus b)":                   nil,
		"(a < )":                        nil,
		"(a":                            nil,
	} {
		if diff := cmp.Diff(want, richNames(dep)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", dep, diff)
		}
	}
}
