package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/config"
	"github.com/patchloop/patchloop/internal/tags"
)

func TestCreateRejectsBadInput(t *testing.T) {
	f := newFixture(t)
	e := f.start(t)
	ctx := context.Background()
	good := configOf("incremental", "app")
	for name, req := range map[string]CreateRequest{
		"bad config":   {Registry: f.host, ConfigName: "cp.json", Config: []byte("{\n  \"version\": \"v2\",\n}"), Schedule: "1d"},
		"empty config": {Registry: f.host, Config: nil, Schedule: "1d"},
		"schedule 0d":  {Registry: f.host, Config: good, Schedule: "0d"},
		"schedule 31d": {Registry: f.host, Config: good, Schedule: "31d"},
		"schedule 1w":  {Registry: f.host, Config: good, Schedule: "1w"},
		"no registry":  {Config: good, Schedule: "1d"},
		"bad registry": {Registry: "UPPER CASE", Config: good, Schedule: "1d"},
		"bad type":     {Registry: f.host, Type: "continuouspatchv2", Config: good, Schedule: "1d"},
	} {
		if _, err := e.Create(ctx, req); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
		}
	}
	_, err := e.Create(ctx, CreateRequest{Registry: f.host, ConfigName: "cp.json", Config: []byte("{\n  \"version\": \"v2\",\n}"), Schedule: "1d"})
	var problems *config.Errors
	if !errors.As(err, &problems) || !strings.Contains(err.Error(), "cp.json:2:") {
		t.Errorf("config problems are not reported with their position: %v", err)
	}
	if _, err := e.Get(ctx, f.host, TypeContinuousPatchV1); !errors.Is(err, ErrNotFound) {
		t.Errorf("a rejected workflow exists: %v", err)
	}
	f.create(t, e, good, false)
	_, err = e.Create(ctx, CreateRequest{Registry: f.host, Config: good, Schedule: "2d"})
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "update") {
		t.Errorf("second create: %v", err)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
	e := f.start(t)
	ctx := context.Background()
	w := f.create(t, e, configOf("incremental", "app"), true)
	if !w.NextRunAt.Equal(t0) {
		t.Fatalf("run-immediately workflow next run = %v", w.NextRunAt)
	}
	waitFor(t, "cycle 0", func() bool { return len(runsOf(t, e, f.host, TaskTrigger)) == 1 })
	waitIdle(t, e, f.host)
	if tr := runsOf(t, e, f.host, TaskTrigger); tr[0].Cycle != 0 {
		t.Fatalf("first cycle = %d, want 0", tr[0].Cycle)
	}

	if _, err := e.Update(ctx, UpdateRequest{Registry: f.host, Type: TypeContinuousPatchV1}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("empty update: %v", err)
	}
	if _, err := e.Update(ctx, UpdateRequest{Registry: f.host, Schedule: "99d"}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("bad schedule: %v", err)
	}
	if _, err := e.Update(ctx, UpdateRequest{Registry: "other.example", Schedule: "2d"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing workflow: %v", err)
	}

	// A new schedule counts from the update (made before cycle 1 is due,
	// which the scheduler would otherwise rightly start).
	f.clock.Advance(day / 2)
	w2, err := e.Update(ctx, UpdateRequest{Registry: f.host, Schedule: "7d", By: "someone"})
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(day / 2)
	if w2.ScheduleText != "7d" || !w2.Anchor.Equal(now) || !w2.NextRunAt.Equal(now.Add(7*day)) || w2.UpdatedBy != "someone" || w2.ConfigDigest != w.ConfigDigest {
		t.Fatalf("after schedule update: %+v", w2)
	}
	f.runCycle(t, e, 6*day)
	if n := len(runsOf(t, e, f.host, TaskTrigger)); n != 1 {
		t.Fatalf("%d triggers before the new schedule's first cycle", n)
	}
	f.runCycle(t, e, day)
	tr := runsOf(t, e, f.host, TaskTrigger)
	if len(tr) != 2 || tr[1].Cycle != 2 {
		t.Fatalf("triggers = %+v", tr)
	}

	// A config update pushes the new config and keeps the schedule.
	w3, err := e.Update(ctx, UpdateRequest{Registry: f.host, Config: configOf("floating", "app")})
	if err != nil {
		t.Fatal(err)
	}
	if w3.TagConvention != string(tags.Floating) || w3.ConfigDigest == w2.ConfigDigest || !w3.NextRunAt.Equal(w2.NextRunAt.Add(7*day)) {
		t.Fatalf("after config update: %+v", w3)
	}
	if d := f.digest(t, PolicyRepository, ConfigTag); d != w3.ConfigDigest {
		t.Fatalf("policy artifact %s, workflow says %s", d, w3.ConfigDigest)
	}

	// The embedded registry (distribution) has no repository delete: the
	// emptied repository stays listed, and the result says so.
	res, err := e.Delete(ctx, f.host, TypeContinuousPatchV1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.PolicyRepositoryKept, "still lists the empty repository "+PolicyRepository) {
		t.Errorf("delete result = %+v, want the kept repository explained", res)
	}
	if _, err := e.Get(ctx, f.host, TypeContinuousPatchV1); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if got := f.tags(t, PolicyRepository); len(got) != 0 {
		t.Errorf("policy tags after delete: %v", got)
	}
	if got := f.tags(t, "app"); strings.Join(got, ",") != "1.0,1.0-1" {
		t.Errorf("patched images must stay: %v", got)
	}
	if runs, err := e.Runs(ctx, RunFilter{Registry: f.host}); err != nil || len(runs) == 0 {
		t.Errorf("run history after delete: %d runs, %v", len(runs), err)
	}
	if _, err := e.Delete(ctx, f.host, TypeContinuousPatchV1); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	// The registry can have a workflow again.
	f.create(t, e, configOf("incremental", "app"), false)
}

// TestTooManyImages fails the trigger of a config that selects more
// images than MaxImages, queuing nothing; create and update refuse such a
// config with the same message.
func TestTooManyImages(t *testing.T) {
	f := newFixture(t)
	f.push(t, f.debian(t, "1.0-2"), "clean", "1.0", "2.0", "3.0")
	e := f.start(t, func(o *Options) { o.MaxImages = 2 })
	const want = "config selects more images than --max-images: 3 images selected, limit 2; narrow the config or raise --max-images"
	ctx := context.Background()
	_, err := e.Create(ctx, CreateRequest{Registry: f.host, Type: TypeContinuousPatchV1, Config: configOf("incremental", "clean"), Schedule: "1d"})
	if !errors.Is(err, ErrTooManyImages) || err.Error() != want {
		t.Fatalf("create: %v, want %q", err, want)
	}
	f.create(t, e, configOf("incremental", "none"), false)
	_, err = e.Update(ctx, UpdateRequest{Registry: f.host, Type: TypeContinuousPatchV1, Config: configOf("incremental", "clean")})
	if !errors.Is(err, ErrTooManyImages) || err.Error() != want {
		t.Fatalf("update: %v, want %q", err, want)
	}
	// A registry that grows past the limit after the update fails the
	// cycle's trigger.
	f.push(t, f.debian(t, "1.0-2"), "grow", "1.0", "2.0")
	if _, err := e.Update(ctx, UpdateRequest{Registry: f.host, Type: TypeContinuousPatchV1, Config: configOf("incremental", "grow")}); err != nil {
		t.Fatal(err)
	}
	f.push(t, f.debian(t, "1.0-2"), "grow", "3.0")
	f.runCycle(t, e, day)
	tr := runsOf(t, e, f.host, TaskTrigger)
	if len(tr) != 1 || tr[0].Status != StatusFailed || !strings.Contains(tr[0].Error, ErrTooManyImages.Error()) ||
		!strings.Contains(tr[0].Error, "3 images selected, limit 2") {
		t.Fatalf("trigger = %+v", tr)
	}
	if scans := runsOf(t, e, f.host, TaskScan); len(scans) != 0 {
		t.Errorf("scans queued: %+v", scans)
	}
}
