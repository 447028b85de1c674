package cli

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	p := writeFile(t, "continuouspatching.json", referenceConfig)
	code, out, errs := run(t, "", "config", "validate", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "valid (version v1, tag-convention incremental, 2 repositories, 2 enabled)") {
		t.Fatalf("stdout: %s", out)
	}
	code, out, _ = run(t, "", "config", "validate", p, "-o", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var doc map[string]any
	decodeJSON(t, out, &doc)
	if doc["tag-convention"] != "incremental" || len(doc["repositories"].([]any)) != 2 {
		t.Fatalf("normalized config: %s", out)
	}
}

func TestConfigValidateReportsAllProblems(t *testing.T) {
	p := writeFile(t, "c.json", `{
  "version": "v1",
  "tag_convention": "floating",
  "repositories": [
    {"repository": "Ubuntu", "tags": ["jammy-1"], "enabled": "yes"}
  ]
}`)
	code, _, errs := run(t, "", "config", "validate", p)
	if code != ExitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{"c.json:3:3:", "tag_convention", "c.json:5:20:", "repositories[0].repository", "repositories[0].tags[0]", "repositories[0].enabled"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestConfigValidateMissingFile(t *testing.T) {
	code, _, errs := run(t, "", "config", "validate", "/nonexistent/c.json")
	if code != ExitUsage || !strings.Contains(errs, "/nonexistent/c.json") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}
