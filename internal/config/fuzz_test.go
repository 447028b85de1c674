package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fuzzSeeds are valid and broken configs to start fuzzing from; the files in
// testdata/*.json are added too.
var fuzzSeeds = []string{
	`{"version": "v1", "repositories": [{"repository": "a", "tags": ["*"]}]}`,
	`{"version": "v1", "tag-convention": "floating", "repositories": [{"repository": "x/y", "tags": ["1.0", "2.0"], "enabled": false},]}`,
	"\xef\xbb\xbf// c\n{/* c */\"version\":\"v1\",\"repositories\":[{\"repository\":\"a\",\"tags\":[\"t\",],},],}",
	`{"version": "v\u0031", "repositories": [{"repository": "ubun\u0074u", "tags": ["\u006a"]}]}`,
	`{"version": "v2", "tag_convention": 1, "repositories": [{"repository": "A", "tags": ["a-1", "*", "a-1"], "enabled": "no"}, 3, {}]}`,
	`{"version": "v1", "version": "v1", "repositories": []}`,
	`{"version": "v1" "repositories": []}`,
	`{"a": [1, -2.5e+3, true, null, {"b": "\uD800"}]}`,
	`[{"version": "v1"}]`,
	``, `   `, `/* x`, `{`, `"`, `{"a":01}`, `{'a': 1}`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLexerAgrees(t, data)
		cfg, err := Parse("f.json", data)
		if err != nil {
			checkProblems(t, err)
			return
		}
		norm, err := cfg.JSON()
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		again, err := Parse("normalized.json", norm)
		if err != nil {
			t.Fatalf("normalized config %s does not parse: %v", norm, err)
		}
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("normalized config parses as %+v, want %+v", again, cfg)
		}
		if norm2, err := again.JSON(); err != nil || !bytes.Equal(norm, norm2) {
			t.Fatalf("normalizing twice gives %s (%v), want %s", norm2, err, norm)
		}
	})
}

// checkProblems checks that err lists problems with positions, sorted.
func checkProblems(t *testing.T, err error) {
	t.Helper()
	var errs *Errors
	if !errors.As(err, &errs) || len(errs.Problems) == 0 {
		t.Fatalf("error %v (%T) is not a non-empty *Errors", err, err)
	}
	if len(errs.Problems) > maxProblems+1 {
		t.Fatalf("%d problems", len(errs.Problems))
	}
	var prev pos
	for i, p := range errs.Problems {
		if p.File != "f.json" || p.Msg == "" {
			t.Fatalf("problem %d: %+v", i, p)
		}
		if p.Line == 0 {
			continue // whole-file problems and the count of dropped problems
		}
		cur := pos{p.Line, p.Col}
		if p.Col < 1 || cur.before(prev) {
			t.Fatalf("problem %d at %s after %s: %s", i, cur, prev, err)
		}
		prev = cur
	}
}
