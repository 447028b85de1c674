package cli

import (
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// referenceConfig is the reference's own example, trailing comma included.
const referenceConfig = `{
"version": "v1",
"tag-convention" : "incremental",
"repositories": [{
        "repository": "python",
        "tags": ["*"],
        "enabled": true
    },
    {
        "repository": "ubuntu",
        "tags": ["jammy-20240111", "jammy-20240125"],
        "enabled": true, 
    }]
}`

func TestDryRunText(t *testing.T) {
	host := registrytest.Start(t)
	registrytest.PushTags(t, host, "python", "3.11", "3.11-1", "3.11-slim-bookworm")
	registrytest.PushTags(t, host, "ubuntu", "jammy-20240111", "jammy-20240125", "jammy-20240125-1", "noble")
	cfg := writeFile(t, "continuouspatching.json", referenceConfig)

	code, out, errs := run(t, "", "workflow", "create", "-r", host, "-t", "continuouspatchv1",
		"--config", cfg, "--schedule", "1d", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "python: 3.11\npython: 3.11-slim-bookworm\nubuntu: jammy-20240111\nubuntu: jammy-20240125\n"
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if errs != "" {
		t.Fatalf("unexpected stderr: %s", errs)
	}
}

func TestDryRunJSONAndWarnings(t *testing.T) {
	host := registrytest.Start(t)
	d := registrytest.PushTags(t, host, "ubuntu", "jammy-20240111", "jammy-20240111-1", "jammy-20240111-2")
	cfg := writeFile(t, "c.json", `{"version": "v1", "repositories": [
		{"repository": "ubuntu", "tags": ["jammy-20240111", "jammy-20240125"]},
		{"repository": "gone", "tags": ["*"]},
		{"repository": "off", "tags": ["*"], "enabled": false}]}`)
	code, out, errs := run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "30d", "--dry-run", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []map[string]any
	decodeJSON(t, out, &got)
	if len(got) != 1 {
		t.Fatalf("targets: %v", got)
	}
	g := got[0]
	if g["repository"] != "ubuntu" || g["tag"] != "jammy-20240111" || g["digest"] != d.String() ||
		g["latestPatchTag"] != "jammy-20240111-2" || g["nextPatchTag"] != "jammy-20240111-3" {
		t.Fatalf("target = %v", g)
	}
	for _, w := range []string{"Warning: ubuntu:jammy-20240125: tag not found", `Warning: repository "gone": repository not found`} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
}

func TestDryRunNullLatest(t *testing.T) {
	host := registrytest.Start(t)
	registrytest.PushTags(t, host, "app", "1.0")
	cfg := writeFile(t, "c.json", `{"version": "v1", "tag-convention": "floating", "repositories": [{"repository": "app", "tags": ["*"]}]}`)
	code, out, errs := run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "7d", "--dry-run", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"latestPatchTag": null`) || !strings.Contains(out, `"nextPatchTag": "1.0-patched"`) {
		t.Fatalf("output:\n%s", out)
	}
}

func TestWorkflowCreateBadInput(t *testing.T) {
	good := writeFile(t, "good.json", `{"version": "v1", "repositories": [{"repository": "app", "tags": ["*"]}]}`)
	bad := writeFile(t, "bad.json", `{"version": "v2", "repositories": []}`)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no registry", []string{"--config", good, "--schedule", "1d", "--dry-run"}, "--registry (-r) is required"},
		{"bad type", []string{"-r", "localhost:5000", "-t", "other", "--config", good, "--schedule", "1d", "--dry-run"}, `--type "other"`},
		{"schedule 0d", []string{"-r", "localhost:5000", "--config", good, "--schedule", "0d", "--dry-run"}, "between 1d and 30d"},
		{"schedule 31d", []string{"-r", "localhost:5000", "--config", good, "--schedule", "31d", "--dry-run"}, "between 1d and 30d"},
		{"schedule missing", []string{"-r", "localhost:5000", "--config", good, "--dry-run"}, "--schedule is required"},
		{"config missing", []string{"-r", "localhost:5000", "--schedule", "1d", "--dry-run"}, "--config is required"},
		{"bad config", []string{"-r", "localhost:5000", "--config", bad, "--schedule", "1d", "--dry-run"}, "bad.json:1:13: version"},
		{"registry with scheme", []string{"-r", "http://localhost:5000", "--config", good, "--schedule", "1d", "--dry-run"}, "registry host only"},
		{"bad output", []string{"-r", "localhost:5000", "--config", good, "--schedule", "1d", "--dry-run", "-o", "yaml"}, `--output "yaml"`},
		{"unknown flag", []string{"--bogus"}, "unknown flag"},
	}
	for _, c := range cases {
		code, _, errs := run(t, "", append([]string{"workflow", "create"}, c.args...)...)
		if code != ExitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 mentioning %q", c.name, code, errs, c.want)
		}
	}
}

// TestResourceGroupFlag: scripts written for the reference pass
// -g/--resource-group to every command; Patchloop says it has none.
func TestResourceGroupFlag(t *testing.T) {
	cfg := writeFile(t, "c.json", referenceConfig)
	for _, args := range [][]string{
		{"workflow", "create", "-r", "localhost:5000", "-g", "myResourceGroup", "-t", "continuouspatchv1", "--config", cfg, "--schedule", "1d", "--dry-run"},
		{"workflow", "show", "-r", "localhost:5000", "--resource-group", "rg"},
		{"workflow", "list", "-r", "localhost:5000", "--resource-group=rg"},
		{"workflow", "delete", "-g", "rg", "-r", "localhost:5000", "-t", "continuouspatchv1"},
		{"workflow", "update", "-r", "localhost:5000", "-g", "rg", "--schedule", "1d"},
		{"workflow", "cancel-run", "-r", "localhost:5000", "-g", "rg"},
	} {
		code, out, errs := run(t, "", args...)
		want := "Error: -g/--resource-group: Patchloop has no resource groups (a workflow belongs to the registry -r names, in any OCI registry); drop -g/--resource-group from the command\n"
		if code != ExitUsage || out != "" || errs != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", args, code, out, errs, ExitUsage, want)
		}
	}
	// Other unknown flags keep cobra's message.
	code, _, errs := run(t, "", "workflow", "show", "-r", "localhost:5000", "-x")
	if code != ExitUsage || !strings.Contains(errs, "unknown shorthand flag: 'x'") {
		t.Errorf("-x: exit %d, stderr %q", code, errs)
	}
}

// TestDryRunMaxImages: the dry run checks the image limit, with the
// message create, update and a cycle's trigger give.
func TestDryRunMaxImages(t *testing.T) {
	host := registrytest.Start(t)
	registrytest.PushTags(t, host, "python", "3.11", "3.12", "3.13")
	cfg := writeFile(t, "c.json", `{"version": "v1", "repositories": [{"repository": "python", "tags": ["*"]}]}`)
	code, out, errs := run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "1d", "--dry-run", "--max-images", "2")
	want := "Error: config selects more images than --max-images: 3 images selected, limit 2; narrow the config or raise --max-images\n"
	if code != ExitUsage || out != "" || errs != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, %q", code, out, errs, ExitUsage, want)
	}
	code, out, errs = run(t, "", "workflow", "create", "-r", host, "--config", cfg, "--schedule", "1d", "--dry-run", "--max-images", "3")
	if code != 0 || out != "python: 3.11\npython: 3.12\npython: 3.13\n" {
		t.Fatalf("at the limit: exit %d\n%s%s", code, out, errs)
	}
}
