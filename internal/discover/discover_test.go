package discover_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/config"
	"github.com/patchloop/patchloop/internal/discover"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

func parse(t testing.TB, doc string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func lines(ts []discover.Target) []string {
	var out []string
	for _, t := range ts {
		latest := "-"
		if t.LatestPatchTag != nil {
			latest = *t.LatestPatchTag
		}
		out = append(out, fmt.Sprintf("%s:%s latest=%s next=%s", t.Repository, t.Tag, latest, t.NextPatchTag))
	}
	return out
}

func TestTargetsIncremental(t *testing.T) {
	host := registrytest.Start(t)
	digests := registrytest.PushRandom(t, host, "myrep/ubuntu", "jammy", "jammy-1", "jammy-2", "jammy-patched",
		"jammy-20240530", "jammy-20240530-1", "jammy-20240530-2", "jammy-20240530-patched")
	registrytest.PushRandom(t, host, "python", "3.11", "3.11-slim-bookworm")
	registrytest.PushRandom(t, host, "disabled", "1.0")

	cfg := parse(t, `{
		"version": "v1",
		"repositories": [
			{"repository": "python", "tags": ["*"]},
			{"repository": "myrep/ubuntu", "tags": ["*"], "enabled": true},
			{"repository": "disabled", "tags": ["*"], "enabled": false},
		]
	}`)
	res, err := discover.Targets(context.Background(), registry.New(), host, cfg, discover.Options{Digests: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"python:3.11 latest=- next=3.11-1",
		"python:3.11-slim-bookworm latest=- next=3.11-slim-bookworm-1",
		"myrep/ubuntu:jammy latest=jammy-2 next=jammy-3",
		"myrep/ubuntu:jammy-20240530 latest=jammy-20240530-2 next=jammy-20240530-3",
	}
	if got := lines(res.Targets); !slices.Equal(got, want) {
		t.Fatalf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Targets[2].Digest != digests["jammy"].String() {
		t.Errorf("digest of jammy = %q, want %s", res.Targets[2].Digest, digests["jammy"])
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
}

func TestTargetsFloatingAndListedTags(t *testing.T) {
	host := registrytest.Start(t)
	registrytest.PushRandom(t, host, "ubuntu", "jammy-20240111", "jammy-20240111-1", "jammy-20240125", "jammy-20240125-patched", "noble")
	cfg := parse(t, `{
		"version": "v1",
		"tag-convention": "floating",
		"repositories": [
			{"repository": "ubuntu", "tags": ["jammy-20240111", "jammy-20240125", "jammy-20240201"]},
			{"repository": "missing", "tags": ["*"]}
		]
	}`)
	res, err := discover.Targets(context.Background(), registry.New(), host, cfg, discover.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ubuntu:jammy-20240111 latest=- next=jammy-20240111-patched",
		"ubuntu:jammy-20240125 latest=jammy-20240125-patched next=jammy-20240125-patched",
	}
	if got := lines(res.Targets); !slices.Equal(got, want) {
		t.Fatalf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var warns []string
	for _, w := range res.Warnings {
		warns = append(warns, w.String())
	}
	wantWarns := []string{
		"ubuntu:jammy-20240201: tag not found in " + host + "; it is skipped",
		`repository "missing": repository not found in ` + host + "; it is skipped",
	}
	if !slices.Equal(warns, wantWarns) {
		t.Fatalf("warnings = %q, want %q", warns, wantWarns)
	}
}

func TestTargets999Patches(t *testing.T) {
	host := registrytest.Start(t)
	all := []string{"v1"}
	for i := 1; i <= 999; i++ {
		all = append(all, fmt.Sprintf("v1-%d", i))
	}
	registrytest.PushTags(t, host, "app", all...)
	cfg := parse(t, `{"version": "v1", "repositories": [{"repository": "app", "tags": ["v1"]}]}`)
	res, err := discover.Targets(context.Background(), registry.New(), host, cfg, discover.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 1 {
		t.Fatalf("targets = %v", lines(res.Targets))
	}
	tg := res.Targets[0]
	if tg.NextPatchTag != "" || !strings.Contains(tg.NextPatchError, "maximum of 999") || *tg.LatestPatchTag != "v1-999" {
		t.Fatalf("target = %+v", tg)
	}
}

func TestTargetsMaxImages(t *testing.T) {
	host := registrytest.Start(t)
	registrytest.PushTags(t, host, "app", "a", "b", "c")
	cfg := parse(t, `{"version": "v1", "repositories": [{"repository": "app", "tags": ["*"]}]}`)
	_, err := discover.Targets(context.Background(), registry.New(), host, cfg, discover.Options{MaxImages: 2})
	if !errors.Is(err, discover.ErrTooManyImages) {
		t.Fatalf("err = %v, want ErrTooManyImages", err)
	}
}

func TestTargetsRegistryDown(t *testing.T) {
	cfg := parse(t, `{"version": "v1", "repositories": [{"repository": "app", "tags": ["*"]}]}`)
	c := registry.New(registry.WithRetry(registry.RetryPolicy{Attempts: 1}))
	_, err := discover.Targets(context.Background(), c, "127.0.0.1:1", cfg, discover.Options{})
	if err == nil || !strings.Contains(err.Error(), "list tags of 127.0.0.1:1/app") {
		t.Fatalf("err = %v, want a listing error naming the repository", err)
	}
}

// TestTargetsPatchOfPatch: with "*", a patch tag stays a patch tag when a
// tag built on it exists: g-1 is not an original because g-1-1 exists,
// nor is e-patched because e-patched-1 exists.
func TestTargetsPatchOfPatch(t *testing.T) {
	host := registrytest.Start(t)
	registrytest.PushTags(t, host, "app", "g", "g-1", "g-1-1", "e", "e-patched", "e-patched-1")
	for _, c := range []struct {
		conv string
		want []string
	}{
		{"incremental", []string{"app:e latest=- next=e-1", "app:g latest=g-1 next=g-2"}},
		{"floating", []string{"app:e latest=e-patched next=e-patched", "app:g latest=- next=g-patched"}},
	} {
		cfg := parse(t, `{"version": "v1", "tag-convention": "`+c.conv+`", "repositories": [{"repository": "app", "tags": ["*"]}]}`)
		res, err := discover.Targets(context.Background(), registry.New(), host, cfg, discover.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := lines(res.Targets); !slices.Equal(got, c.want) {
			t.Errorf("%s: targets:\n%s\nwant:\n%s", c.conv, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
