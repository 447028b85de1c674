package patch_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// recorder is a patcher that records the images it is asked to patch and
// changes nothing.
type recorder struct {
	name  string
	calls int
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Patch(_ context.Context, _ v1.Image, req patch.Request) (*patch.Outcome, error) {
	r.calls++
	return &patch.Outcome{Updates: []patch.Update{}, Fixed: []string{}}, nil
}

// testFamily is a family no real patcher handles, registered by this test
// binary.
const testFamily ospkg.Family = "patchtest-os"

var registeredCfg patch.Config

func init() {
	patch.Register("patchtest", []ospkg.Family{testFamily}, func(_ context.Context, cfg patch.Config) (patch.Patcher, error) {
		registeredCfg = cfg
		return &recorder{name: "patchtest"}, nil
	})
}

func TestPatchersFor(t *testing.T) {
	apt, apk := &recorder{name: "apt"}, &recorder{name: "apk"}
	ps := patch.Patchers{ospkg.Debian: apt, ospkg.Ubuntu: apt}
	if p, err := ps.For(ospkg.Ubuntu); err != nil || p != apt {
		t.Fatalf("For(ubuntu) = %v, %v; want the apt patcher", p, err)
	}
	_, err := ps.For(ospkg.Alpine)
	if err == nil || err.Error() != "no patcher for OS family alpine; supported: debian, ubuntu" {
		t.Fatalf("For(alpine) error = %v", err)
	}
	if !errors.Is(err, patch.ErrUnsupported) || !patch.IsPermanent(err) {
		t.Errorf("For(alpine) error %v: want ErrUnsupported and permanent", err)
	}
	var ue *patch.UnsupportedError
	if !errors.As(err, &ue) || ue.Family != ospkg.Alpine {
		t.Errorf("For(alpine) error %#v: want an *UnsupportedError for alpine", err)
	}
	if _, err := ps.For(""); err == nil || err.Error() != "no patcher for OS family (unknown); supported: debian, ubuntu" {
		t.Errorf("For(\"\") error = %v", err)
	}
	ps[ospkg.Alpine] = apk
	if p, err := ps.For(ospkg.Alpine); err != nil || p != apk {
		t.Errorf("For(alpine) = %v, %v; want the apk patcher", p, err)
	}
}

func TestNewBuildsRegisteredPatchers(t *testing.T) {
	dir := t.TempDir()
	ps, err := patch.New(context.Background(), patch.Config{DataDir: dir, Logger: quiet, Repositories: map[string]patch.RepositoryConfig{
		"patchtest": {Keyring: "k.gpg"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	names := map[ospkg.Family]string{}
	for fam, p := range ps {
		names[fam] = p.Name()
	}
	want := map[ospkg.Family]string{ospkg.Debian: "apt", ospkg.Ubuntu: "apt", testFamily: "patchtest"}
	if !maps.Equal(names, want) {
		t.Errorf("patchers by family = %v, want %v", names, want)
	}
	if ps[ospkg.Debian] != ps[ospkg.Ubuntu] {
		t.Error("debian and ubuntu got two apt patchers; want one")
	}
	if registeredCfg.DataDir != dir || registeredCfg.Repositories["patchtest"].Keyring != "k.gpg" || registeredCfg.CacheDir("patchtest") != dir+"/patchtest" {
		t.Errorf("factory got %+v", registeredCfg)
	}

	if _, err := patch.New(context.Background(), patch.Config{}); err == nil {
		t.Error("New without a data directory: no error")
	}
	_, err = patch.New(context.Background(), patch.Config{DataDir: dir, Logger: quiet, Repositories: map[string]patch.RepositoryConfig{
		"apt": {Keyring: dir + "/missing.gpg"},
	}})
	if err == nil || !errorContains(err, "apt patcher") || !errorContains(err, "missing.gpg") {
		t.Errorf("New with a missing apt keyring: error %v; want one naming the patcher and the file", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	for _, tc := range []struct {
		name     string
		families []ospkg.Family
	}{
		{"patchtest", []ospkg.Family{"other-os"}}, // the name again
		{"other", []ospkg.Family{ospkg.Debian}},   // a family again
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%s, %v): no panic", tc.name, tc.families)
				}
			}()
			patch.Register(tc.name, tc.families, func(context.Context, patch.Config) (patch.Patcher, error) { return nil, nil })
		}()
	}
}

// notPermanent says retrying may help.
type notPermanent struct{ error }

func (notPermanent) Permanent() bool { return false }

func TestPermanent(t *testing.T) {
	if patch.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	sentinel := patch.Permanent(errors.New("unmet dependency"))
	wrapped := fmt.Errorf("apt patcher: libfoo: %w", sentinel)
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{sentinel, true},
		{wrapped, true},
		{fmt.Errorf("image x: %w", &patch.UnsupportedError{Family: ospkg.Alpine}), true},
		{errors.New("connection reset"), false},
		{notPermanent{errors.New("503")}, false},
		{nil, false},
	} {
		if got := patch.IsPermanent(tc.err); got != tc.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !errors.Is(wrapped, sentinel) || wrapped.Error() != "apt patcher: libfoo: unmet dependency" {
		t.Errorf("wrapped = %q; want it to match the sentinel and keep its message", wrapped)
	}
}

func TestParseMirrors(t *testing.T) {
	m, err := patch.ParseMirrors([]string{"http://a.example/debian=http://mirror/debian", "https://mirror/all"})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"http://a.example/debian/": "http://mirror/debian",
		"http://b.example/ubuntu":  "https://mirror/all",
	} {
		if got := m.Replace(in); got != want {
			t.Errorf("Replace(%s) = %s, want %s", in, got, want)
		}
	}
	if got := (patch.Mirrors{}).Replace("http://x/"); got != "http://x/" {
		t.Errorf("no mirrors: Replace = %s", got)
	}
	if _, err := patch.ParseMirrors([]string{"ftp://x"}); err == nil {
		t.Error("ftp mirror: no error")
	}
}

// TestRunPicksPatcherByFamily patches a Debian image with patchers for
// other families (an unsupported-family error, permanent) and with a
// patcher registered for Debian (which is asked to patch it).
func TestRunPicksPatcherByFamily(t *testing.T) {
	f := newFixture(t)
	ref := f.host + "/app:1.0"
	registrytest.Push(t, ref, f.image(t, "amd64", "1.0-1"))

	opts := f.options(t, "")
	opts.Patchers = patch.Patchers{ospkg.Alpine: &recorder{name: "apk"}}
	_, err := patch.Run(context.Background(), ref, opts)
	if err == nil || !errorContains(err, "no patcher for OS family debian; supported: alpine") {
		t.Fatalf("Run with an alpine patcher only: error %v", err)
	}
	if !errors.Is(err, patch.ErrUnsupported) || !patch.IsPermanent(err) {
		t.Errorf("error %v: want ErrUnsupported, permanent", err)
	}

	rec := &recorder{name: "fake-apt"}
	opts.Patchers = patch.Patchers{ospkg.Alpine: &recorder{name: "apk"}, ospkg.Debian: rec}
	opts.Client = registry.New()
	res, err := patch.Run(context.Background(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rec.calls != 1 || res.Changed() || len(res.Platforms) != 1 || res.Platforms[0].Family != "debian" {
		t.Errorf("debian patcher called %d times; result %+v", rec.calls, res)
	}
}

func errorContains(err error, s string) bool {
	return err != nil && strings.Contains(err.Error(), s)
}
