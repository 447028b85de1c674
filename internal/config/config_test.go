package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/tags"
)

// readTestdata returns the contents of testdata/name.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mustParse parses src and fails the test on any problem.
func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := Parse("c.json", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

// problems parses src, which must be invalid, and returns its problems
// formatted one per string.
func problems(t *testing.T, src string) []string {
	t.Helper()
	_, err := Parse("c.json", []byte(src))
	return problemStrings(t, err)
}

func problemStrings(t *testing.T, err error) []string {
	t.Helper()
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error = %v (%T), want *Errors", err, err)
	}
	out := make([]string, len(errs.Problems))
	for i, p := range errs.Problems {
		out[i] = p.String()
	}
	return out
}

const referenceNormalized = `{
  "version": "v1",
  "tag-convention": "incremental",
  "repositories": [
    {
      "repository": "python",
      "tags": [
        "*"
      ],
      "enabled": true
    },
    {
      "repository": "ubuntu",
      "tags": [
        "jammy-20240111",
        "jammy-20240125"
      ],
      "enabled": true
    }
  ]
}`

func TestReferenceExample(t *testing.T) {
	got, err := Normalize("continuouspatching.json", readTestdata(t, "reference.json"))
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if string(got) != referenceNormalized {
		t.Errorf("normalized =\n%s\nwant\n%s", got, referenceNormalized)
	}
}

func TestComments(t *testing.T) {
	cfg, err := Parse("comments.json", readTestdata(t, "comments.json"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Config{
		Version:       "v1",
		TagConvention: tags.Floating,
		Repositories: []Repository{
			{Name: "python", Tags: []string{"*"}, Enabled: true},
			{Name: "library/ubuntu", Tags: []string{"jammy-20240111", "jammy-20240125"}, Enabled: false},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Parse = %+v, want %+v", cfg, want)
	}
}

func TestDefaultsWrittenExplicitly(t *testing.T) {
	got, err := Normalize("c.json", []byte(`{"repositories": [{"tags": ["a"], "repository": "r"}], "version": "v1"}`))
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	want := `{
  "version": "v1",
  "tag-convention": "incremental",
  "repositories": [
    {
      "repository": "r",
      "tags": [
        "a"
      ],
      "enabled": true
    }
  ]
}`
	if string(got) != want {
		t.Errorf("normalized =\n%s\nwant\n%s", got, want)
	}
}

func TestAccepted(t *testing.T) {
	cases := []struct {
		name, src string
		want      Repository
	}{
		{"bom", "\xef\xbb\xbf" + `{"version": "v1", "repositories": [{"repository": "a", "tags": ["*"]}]}`,
			Repository{Name: "a", Tags: []string{"*"}, Enabled: true}},
		{"crlf", "{\r\n\"version\": \"v1\",\r\n\"repositories\": [{\"repository\": \"a\", \"tags\": [\"b\"]}]\r\n}\r\n",
			Repository{Name: "a", Tags: []string{"b"}, Enabled: true}},
		{"escapes", `{"version": "v\u0031", "repositories": [{"repository": "ubun\u0074u", "tags": ["\u006aammy\u002e1"]}]}`,
			Repository{Name: "ubuntu", Tags: []string{"jammy.1"}, Enabled: true}},
		{"name separators", `{"version": "v1", "repositories": [{"repository": "my.org/team__x/app---y_z", "tags": ["_1.0-A"]}]}`,
			Repository{Name: "my.org/team__x/app---y_z", Tags: []string{"_1.0-A"}, Enabled: true}},
		{"original tags", `{"version": "v1", "repositories": [{"repository": "a", "tags": ["jammy-20240530", "jammy-0", "jammy-1000", "patched", "jammy-01"]}]}`,
			Repository{Name: "a", Tags: []string{"jammy-20240530", "jammy-0", "jammy-1000", "patched", "jammy-01"}, Enabled: true}},
		{"longest names", `{"version": "v1", "repositories": [{"repository": "` + strings.Repeat("a", 255) + `", "tags": ["` + strings.Repeat("t", 128) + `"]}]}`,
			Repository{Name: strings.Repeat("a", 255), Tags: []string{strings.Repeat("t", 128)}, Enabled: true}},
		{"disabled", `{"version": "v1", "repositories": [{"enabled": false, "repository": "a", "tags": ["*"]}]}`,
			Repository{Name: "a", Tags: []string{"*"}, Enabled: false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, tc.src)
			if len(cfg.Repositories) != 1 || !reflect.DeepEqual(cfg.Repositories[0], tc.want) {
				t.Errorf("Repositories = %+v, want [%+v]", cfg.Repositories, tc.want)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	cfg := mustParse(t, `{"version": "v1", "repositories": [
		{"repository": "a", "tags": ["*"]},
		{"repository": "b", "tags": ["x"], "enabled": false},
		{"repository": "c", "tags": ["x", "y"]},
	]}`)
	var names []string
	for _, r := range cfg.EnabledRepositories() {
		names = append(names, r.Name)
	}
	if want := []string{"a", "c"}; !reflect.DeepEqual(names, want) {
		t.Errorf("EnabledRepositories = %q, want %q", names, want)
	}
	for i, want := range []bool{true, false, false} {
		if got := cfg.Repositories[i].AllTags(); got != want {
			t.Errorf("Repositories[%d].AllTags() = %v, want %v", i, got, want)
		}
	}
	if (Repository{Tags: []string{"*", "x"}}).AllTags() {
		t.Error(`AllTags() = true for ["*", "x"]`)
	}
}

func TestJSONFillsConvention(t *testing.T) {
	cfg := &Config{Version: "v1", Repositories: []Repository{{Name: "a", Tags: []string{"*"}}}}
	data, err := cfg.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back := mustParse(t, string(data))
	if back.TagConvention != tags.Incremental || back.Repositories[0].Enabled {
		t.Errorf("round trip = %+v", back)
	}
}

func TestErrorsFormat(t *testing.T) {
	err := &Errors{Problems: []Problem{
		{File: "c.json", Line: 9, Col: 9, Path: "repositories[1].enabled", Msg: "must be true or false"},
		{File: "c.json", Line: 2, Col: 1, Msg: "syntax"},
		{File: "c.json", Msg: "too large"},
		{Line: 1, Col: 2, Msg: "no file"},
	}}
	want := "c.json:9:9: repositories[1].enabled: must be true or false\n" +
		"c.json:2:1: syntax\n" +
		"c.json: too large\n" +
		"1:2: no file"
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	if got := (&Errors{}).Error(); got != "invalid workflow config" {
		t.Errorf("empty Error() = %q", got)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "continuouspatching.json")
	if err := os.WriteFile(path, readTestdata(t, "reference.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.Repositories) != 2 {
		t.Errorf("Repositories = %+v", cfg.Repositories)
	}

	if _, err := Load(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("Load(directory) succeeded")
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": "v2", "repositories": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		bad + `:1:13: version: unsupported version "v2"; set "version": "v1"`,
		bad + `:1:35: repositories: must not be empty; add a repository such as {"repository": "ubuntu", "tags": ["*"]}`,
	}
	_, err = Load(bad)
	if got := problemStrings(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTooLarge(t *testing.T) {
	want := []string{"big.json: the file is larger than 10485760 bytes (10 MiB), the limit for a workflow config; " +
		`select tags with "*" instead of long tag lists`}

	path := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: Load must refuse it from its size alone.
	if err := f.Truncate(MaxSize + 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	got := problemStrings(t, err)
	if len(got) != 1 || !strings.HasSuffix(got[0], want[0][len("big.json"):]) {
		t.Errorf("Load problems = %q", got)
	}

	_, err = Parse("big.json", make([]byte, MaxSize+1))
	if got := problemStrings(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse problems = %q, want %q", got, want)
	}
}

func TestEmpty(t *testing.T) {
	const example = `; write a config such as {"version": "v1", "repositories": [{"repository": "ubuntu", "tags": ["*"]}]}`
	cases := map[string]string{
		"":                 "c.json:1:1: the file is empty" + example,
		"\xef\xbb\xbf":     "c.json:1:1: the file is empty" + example,
		" \n\t\r\n  ":      "c.json:1:1: the file contains only whitespace and comments" + example,
		"// x\n/* y */\n":  "c.json:1:1: the file contains only whitespace and comments" + example,
		"\xef\xbb\xbf\n\n": "c.json:1:1: the file contains only whitespace and comments" + example,
	}
	for src, want := range cases {
		if got := problems(t, src); len(got) != 1 || got[0] != want {
			t.Errorf("Parse(%q) problems = %q, want [%q]", src, got, want)
		}
	}
}
