package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
)

// failingPatcher fails every attempt with err and counts the attempts.
type failingPatcher struct {
	err   error
	calls atomic.Int32
}

func (p *failingPatcher) Name() string { return "failing" }

func (p *failingPatcher) Patch(context.Context, v1.Image, patch.Request) (*patch.Outcome, error) {
	p.calls.Add(1)
	return nil, p.err
}

// TestPatchRetriesOnlyTemporaryErrors runs a cycle whose patch fails: an
// error the patcher marks permanent (or an OS family without a patcher)
// fails the run after one attempt, any other error is retried up to
// MaxAttempts.
func TestPatchRetriesOnlyTemporaryErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		family   ospkg.Family // the family the patcher is registered for
		err      error
		attempts int32
		wantErr  string
	}{
		{"temporary", ospkg.Debian, errors.New("mirror said 503"), DefaultMaxAttempts, "mirror said 503"},
		{"permanent", ospkg.Debian, fmt.Errorf("libfoo: %w", patch.Permanent(errors.New("unmet dependency"))), 1, "libfoo: unmet dependency"},
		{"unsupported family", ospkg.Alpine, errors.New("never called"), 0, "no patcher for OS family debian; supported: alpine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
			p := &failingPatcher{err: tc.err}
			e := f.start(t, func(o *Options) { o.Patchers = patch.Patchers{tc.family: p} })
			f.create(t, e, configOf("incremental", "app"), false)
			f.runCycle(t, e, day)

			runs := runsOf(t, e, f.host, TaskPatch)
			if len(runs) != 1 || runs[0].Status != StatusFailed || !strings.Contains(runs[0].Error, tc.wantErr) {
				t.Fatalf("patch runs = %+v; want one failed with %q", runs, tc.wantErr)
			}
			if got := p.calls.Load(); got != tc.attempts {
				t.Errorf("patcher called %d times, want %d", got, tc.attempts)
			}
		})
	}
}

// TestEngineBuildsRegisteredPatchers checks that an engine without
// Patchers builds the registered ones from Options.Patch, and that a
// patcher that cannot be built stops New.
func TestEngineBuildsRegisteredPatchers(t *testing.T) {
	f := newFixture(t)
	e := f.start(t)
	if p, err := e.patchers.For(ospkg.Ubuntu); err != nil || p.Name() != "apt" {
		t.Errorf("ubuntu patcher = %v, %v; want apt", p, err)
	}
	opts := f.options()
	opts.Patch.Repositories = map[string]patch.RepositoryConfig{"apt": {Keyring: f.aptCache + "/missing.gpg"}}
	if _, err := New(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "missing.gpg") {
		t.Errorf("New with a missing keyring: %v", err)
	}
}
