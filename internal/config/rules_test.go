package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// withTags returns a config whose only repository has the given tags value.
// The value starts at 1:64 and a first element at 1:65.
func withTags(tagsValue string) string {
	return `{"version": "v1", "repositories": [{"repository": "a", "tags": ` + tagsValue + `}]}`
}

// withRepository returns a config whose only repository has the given
// repository value, which starts at 1:51.
func withRepository(name string) string {
	return `{"version": "v1", "repositories": [{"repository": ` + name + `, "tags": ["*"]}]}`
}

// withEnabled returns a config whose only repository has the given enabled
// value, which starts at 1:82.
func withEnabled(enabled string) string {
	return `{"version": "v1", "repositories": [{"repository": "a", "tags": ["*"], "enabled": ` + enabled + `}]}`
}

const (
	repos       = `"repositories": [{"repository": "a", "tags": ["*"]}]`
	knownTop    = `the fields here are "version", "tag-convention" and "repositories"`
	tagExamples = `["jammy-20240111"], or ["*"] for all tags`
	reserved    = ` is reserved for patched images (it ends in -1 to -999 or -patched); list the original tag `
)

func TestProblems(t *testing.T) {
	long := strings.Repeat("t", 129)
	cases := []struct {
		name string
		src  string
		want []string
	}{
		// version
		{"version missing", `{` + repos + `}`,
			[]string{`c.json:1:1: version: required field is missing; set "version": "v1"`}},
		{"version not a string", `{"version": 1, ` + repos + `}`,
			[]string{`c.json:1:13: version: must be a string; set "version": "v1"`}},
		{"version null", `{"version": null, ` + repos + `}`,
			[]string{`c.json:1:13: version: must be a string; set "version": "v1"`}},
		{"version unsupported", `{"version": "v2", ` + repos + `}`,
			[]string{`c.json:1:13: version: unsupported version "v2"; set "version": "v1"`}},

		// tag-convention
		{"convention misspelled", `{"version": "v1", "tag-convention": "Floating", ` + repos + `}`,
			[]string{`c.json:1:37: tag-convention: unknown tag convention "Floating"; did you mean "floating"?`}},
		{"convention unknown", `{"version": "v1", "tag-convention": "weekly", ` + repos + `}`,
			[]string{`c.json:1:37: tag-convention: unknown tag convention "weekly"; use "incremental" (the default) or "floating"`}},
		{"convention empty", `{"version": "v1", "tag-convention": "", ` + repos + `}`,
			[]string{`c.json:1:37: tag-convention: unknown tag convention ""; use "incremental" (the default) or "floating"`}},
		{"convention not a string", `{"version": "v1", "tag-convention": ["floating"], ` + repos + `}`,
			[]string{`c.json:1:37: tag-convention: must be the string "incremental" or "floating"`}},

		// repositories
		{"repositories missing", `{"version": "v1"}`,
			[]string{`c.json:1:1: repositories: required field is missing; add "repositories": [{"repository": "ubuntu", "tags": ["*"]}]`}},
		{"repositories not an array", `{"version": "v1", "repositories": {"repository": "a"}}`,
			[]string{`c.json:1:35: repositories: must be an array such as [{"repository": "ubuntu", "tags": ["*"]}]`}},
		{"repositories empty", `{"version": "v1", "repositories": [ ]}`,
			[]string{`c.json:1:35: repositories: must not be empty; add a repository such as {"repository": "ubuntu", "tags": ["*"]}`}},
		{"repository entry not an object", `{"version": "v1", "repositories": ["ubuntu"]}`,
			[]string{`c.json:1:36: repositories[0]: must be an object such as {"repository": "ubuntu", "tags": ["*"]}`}},

		// repository
		{"repository missing", `{"version": "v1", "repositories": [{"tags": ["*"]}]}`,
			[]string{`c.json:1:36: repositories[0].repository: required field is missing; name the repository, such as "repository": "ubuntu"`}},
		{"repository not a string", withRepository(`7`),
			[]string{`c.json:1:51: repositories[0].repository: must be a string such as "ubuntu"`}},
		{"repository empty", withRepository(`""`),
			[]string{`c.json:1:51: repositories[0].repository: must not be empty; name the repository, such as "ubuntu"`}},
		{"repository invalid", withRepository(`"my repo"`),
			[]string{`c.json:1:51: repositories[0].repository: invalid repository name "my repo": use lowercase letters and digits, ` +
				`separated by '.', '_', '__' or '-' within a path component and by '/' between components`}},
		{"repository uppercase", withRepository(`"Library/Ubuntu"`),
			[]string{`c.json:1:51: repositories[0].repository: invalid repository name "Library/Ubuntu": repository names are lowercase; write "library/ubuntu"`}},
		{"repository with tag", withRepository(`"ubuntu:22.04"`),
			[]string{`c.json:1:51: repositories[0].repository: invalid repository name "ubuntu:22.04": write the repository name alone, such as "ubuntu", and list tags in "tags"`}},
		{"repository too long", withRepository(`"` + strings.Repeat("a", 256) + `"`),
			[]string{`c.json:1:51: repositories[0].repository: repository name is 256 characters long; the limit is 255`}},
		{"repository duplicate",
			`{"version": "v1", "repositories": [{"repository": "a", "tags": ["*"]}, {"repository": "a", "tags": ["*"]}]}`,
			[]string{`c.json:1:87: repositories[1].repository: duplicate repository "a" (first at 1:51); merge the two entries into one`}},

		// tags
		{"tags missing", `{"version": "v1", "repositories": [{"repository": "a"}]}`,
			[]string{`c.json:1:36: repositories[0].tags: required field is missing; list the tags to patch, such as "tags": ` + tagExamples}},
		{"tags not an array", withTags(`"*"`),
			[]string{`c.json:1:64: repositories[0].tags: must be an array such as ` + tagExamples}},
		{"tags empty", withTags(`[]`),
			[]string{`c.json:1:64: repositories[0].tags: must not be empty; list tags such as ` + tagExamples}},
		{"tag not a string", withTags(`[1]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: must be a string such as "jammy-20240111"`}},
		{"tag empty", withTags(`[""]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: tag must not be empty; list tags such as "jammy-20240111", or use "*" alone for all tags`}},
		{"tag pattern", withTags(`["jammy-*"]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: invalid tag "jammy-*": wildcards within tags are not supported; list each tag, or use "*" alone for all tags`}},
		{"tag too long", withTags(`["` + long + `"]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: invalid tag "` + long[:64] + `"…: tags are at most 128 characters long`}},
		{"tag invalid", withTags(`[".hidden"]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: invalid tag ".hidden": use letters, digits, '_', '.' and '-', not starting with '.' or '-'`}},
		{"tag with slash", withTags(`["a\/b"]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: invalid tag "a/b": use letters, digits, '_', '.' and '-', not starting with '.' or '-'`}},
		{"tag reserved incremental", withTags(`["jammy-1"]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: tag "jammy-1"` + reserved + `"jammy" instead`}},
		{"tag reserved 999", withTags(`["jammy-20240530-999"]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: tag "jammy-20240530-999"` + reserved + `"jammy-20240530" instead`}},
		{"tag reserved floating", withTags(`["jammy-1-patched"]`),
			[]string{`c.json:1:65: repositories[0].tags[0]: tag "jammy-1-patched"` + reserved + `"jammy" instead`}},
		{"tag duplicate", withTags(`["a", "a"]`),
			[]string{`c.json:1:70: repositories[0].tags[1]: duplicate tag "a" (first at 1:65); remove one of them`}},
		{"wildcard not alone", withTags(`["a", "*"]`),
			[]string{`c.json:1:70: repositories[0].tags[1]: "*" must be the only tag of its repository; remove the other tags, or remove "*" to patch only the listed tags`}},
		{"wildcard twice", withTags(`["*", "*"]`),
			[]string{
				`c.json:1:65: repositories[0].tags[0]: "*" must be the only tag of its repository; remove the other tags, or remove "*" to patch only the listed tags`,
				`c.json:1:70: repositories[0].tags[1]: duplicate tag "*" (first at 1:65); remove one of them`,
			}},

		// enabled
		{"enabled string", withEnabled(`"true"`),
			[]string{`c.json:1:82: repositories[0].enabled: must be true or false`}},
		{"enabled null", withEnabled(`null`),
			[]string{`c.json:1:82: repositories[0].enabled: must be true or false`}},
		{"enabled number", withEnabled(`1`),
			[]string{`c.json:1:82: repositories[0].enabled: must be true or false`}},

		// unknown and duplicate fields
		{"unknown top-level field", `{"version": "v1", "tag_convention": "floating", ` + repos + `}`,
			[]string{`c.json:1:19: tag_convention: unknown field "tag_convention" (did you mean "tag-convention"?)`}},
		{"unknown field by prefix", `{"version": "v1", "repos": []}`,
			[]string{
				`c.json:1:1: repositories: required field is missing; add "repositories": [{"repository": "ubuntu", "tags": ["*"]}]`,
				`c.json:1:19: repos: unknown field "repos" (did you mean "repositories"?)`,
			}},
		{"unknown field without suggestion", `{"version": "v1", "schedule": "1d", ` + repos + `}`,
			[]string{`c.json:1:19: schedule: unknown field "schedule"; ` + knownTop}},
		{"unknown key path", `{"version": "v1", "a b": 1, ` + repos + `}`,
			[]string{`c.json:1:19: ["a b"]: unknown field "a b"; ` + knownTop}},
		{"unknown repository field", `{"version": "v1", "repositories": [{"repository": "a", "tags": ["*"], "enable": false}]}`,
			[]string{`c.json:1:71: repositories[0].enable: unknown field "enable" (did you mean "enabled"?)`}},
		{"repository field at top level", `{"version": "v1", "tags": ["*"], ` + repos + `}`,
			[]string{`c.json:1:19: tags: field "tags" belongs inside an entry of "repositories"; move it there`}},
		{"top-level field in repository", `{"version": "v1", "repositories": [{"repository": "a", "tags": ["*"], "tag-convention": "floating"}]}`,
			[]string{`c.json:1:71: repositories[0].tag-convention: field "tag-convention" belongs at the top level; move it there`}},
		{"duplicate top-level field", `{"version": "v1", "version": "v1", ` + repos + `}`,
			[]string{`c.json:1:19: version: duplicate field "version" (first at 1:2); remove one of them`}},
		{"duplicate repository field", `{"version": "v1", "repositories": [{"repository": "a", "tags": ["*"], "tags": ["b"]}]}`,
			[]string{`c.json:1:71: repositories[0].tags: duplicate field "tags" (first at 1:56); remove one of them`}},

		// top level
		{"top level string", `"v1"`,
			[]string{`c.json:1:1: the top level must be a JSON object such as {"version": "v1", "repositories": [...]}, not a string`}},
		{"top level array", "\n  [{\"version\": \"v1\"}]",
			[]string{`c.json:2:3: the top level must be a JSON object such as {"version": "v1", "repositories": [...]}, not an array`}},
		{"top level null", `null`,
			[]string{`c.json:1:1: the top level must be a JSON object such as {"version": "v1", "repositories": [...]}, not null`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := problems(t, tc.src); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestProblemAtLineNine(t *testing.T) {
	src := `{
  "version": "v1",
  "repositories": [
    {"repository": "python", "tags": ["*"]},
    {
      "repository": "ubuntu",
      "tags": ["jammy-20240111"],
      "enabled":
        "yes"
    }
  ]
}`
	_, err := Parse("continuouspatching.json", []byte(src))
	want := "continuouspatching.json:9:9: repositories[1].enabled: must be true or false"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestAllProblemsInOrder(t *testing.T) {
	src := `// The repositories entry comes first: problems are still sorted.
{
  "repositories": [
    {
      "repository": "Python",
      "tags": ["3.12", "3.12-1", "3.12"],
      "enabled": "yes",
    },
    {"tags": []},
    "ubuntu",
  ],
  "tag_convention": "floating",
  "version": 1,
}
`
	want := []string{
		`c.json:5:21: repositories[0].repository: invalid repository name "Python": repository names are lowercase; write "python"`,
		`c.json:6:24: repositories[0].tags[1]: tag "3.12-1"` + reserved + `"3.12" instead`,
		`c.json:6:34: repositories[0].tags[2]: duplicate tag "3.12" (first at 6:16); remove one of them`,
		`c.json:7:18: repositories[0].enabled: must be true or false`,
		`c.json:9:5: repositories[1].repository: required field is missing; name the repository, such as "repository": "ubuntu"`,
		`c.json:9:14: repositories[1].tags: must not be empty; list tags such as ` + tagExamples,
		`c.json:10:5: repositories[2]: must be an object such as {"repository": "ubuntu", "tags": ["*"]}`,
		`c.json:12:3: tag_convention: unknown field "tag_convention" (did you mean "tag-convention"?)`,
		`c.json:13:14: version: must be a string; set "version": "v1"`,
	}
	if got := problems(t, src); !reflect.DeepEqual(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestProblemLimit(t *testing.T) {
	var list []string
	for i := range 150 {
		list = append(list, fmt.Sprintf(`"t%03d-1"`, i))
	}
	got := problems(t, `{"repositories": [{"repository": "a", "tags": [`+strings.Join(list, ", ")+`]}]}`)
	if len(got) != maxProblems+1 {
		t.Fatalf("%d problems, want %d", len(got), maxProblems+1)
	}
	if want := `c.json:1:1: version: required field is missing; set "version": "v1"`; got[0] != want {
		t.Errorf("first problem = %s, want %s", got[0], want)
	}
	if want := `c.json:1:48: repositories[0].tags[0]: tag "t000-1"`; !strings.HasPrefix(got[1], want) {
		t.Errorf("second problem = %s, want prefix %s", got[1], want)
	}
	if want := `repositories[0].tags[98]: tag "t098-1"`; !strings.Contains(got[maxProblems-1], want) {
		t.Errorf("last problem = %s, want %s", got[maxProblems-1], want)
	}
	if want := "c.json: 51 more problems not shown; fix the ones above and check again"; got[maxProblems] != want {
		t.Errorf("note = %s, want %s", got[maxProblems], want)
	}
}

func TestCheckRepository(t *testing.T) {
	valid := []string{"a", "0", "a/b/c", "a.b", "a_b", "a__b", "a-b", "a---b", "my-org.io/team_x/app"}
	invalid := []string{"a___b", "a..b", "a.-b", "-a", "a-", "a/", "/a", "a//b", "_a", "a b", "é"}
	for _, name := range valid {
		if msg := checkRepository(name); msg != "" {
			t.Errorf("checkRepository(%q) = %q, want valid", name, msg)
		}
	}
	for _, name := range invalid {
		if checkRepository(name) == "" {
			t.Errorf("checkRepository(%q) = valid, want a problem", name)
		}
	}
}

func TestSuggest(t *testing.T) {
	fields := []string{"version", "tag-convention", "repositories"}
	cases := map[string]string{
		"tag_convention":              "tag-convention",
		"tagConvention":               "tag-convention",
		"Version":                     "version",
		"versoin":                     "version",
		"repo":                        "repositories",
		"repository":                  "",
		"x":                           "",
		"":                            "",
		strings.Repeat("version", 20): "",
	}
	for word, want := range cases {
		if got := suggest(word, fields); got != want {
			t.Errorf("suggest(%q) = %q, want %q", word, got, want)
		}
	}
}
