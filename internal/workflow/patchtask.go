package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/riverqueue/river"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/publish"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/reportfmt"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/tags"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// patchWorker runs cssc-patch-image.
type patchWorker struct {
	river.WorkerDefaults[PatchArgs]
	e *Engine
}

// Timeout bounds a patch attempt.
func (w *patchWorker) Timeout(*river.Job[PatchArgs]) time.Duration { return w.e.opts.PatchTimeout }

// Work patches the original image and pushes the next tag.
func (w *patchWorker) Work(ctx context.Context, job *river.Job[PatchArgs]) error {
	t, ctx, err := w.e.begin(ctx, job.Args.JobRef, job.Args.Registry+"/"+job.Args.Repository+":"+job.Args.Tag, job.JobRow)
	if t == nil {
		return err
	}
	defer t.cancel(nil)
	status, res, err := t.patch(ctx, job.Args)
	return t.end(ctx, status, res, err)
}

// patch patches the original tag (not the patch that was scanned) with
// what a fresh scan of it finds, and pushes the result under the next tag
// of the convention: original-N+1, or original-patched moved.
func (t *task) patch(ctx context.Context, a PatchArgs) (RunStatus, RunResult, error) {
	e := t.e
	orig := a.Repository + ":" + a.Tag
	res := RunResult{ScannedImage: a.ScannedImage}
	if rec, ok, err := t.landedPush(ctx, a); err != nil || ok {
		prev := rec.RunResult
		if err == nil {
			err = t.publishLanded(ctx, a, rec, &prev)
		}
		return StatusSucceeded, prev, err
	}
	if err := t.checkPatchRoom(ctx, a); err != nil {
		return "", res, err
	}
	t.log.InfoContext(ctx, "patching", "image", orig, "convention", a.Convention)
	ignore, err := e.loadIgnore()
	if err != nil {
		return "", res, err
	}
	vdb, err := e.openVulnDB(ctx)
	if err != nil {
		return "", res, err
	}
	defer vdb.Close()
	var reports []*scan.Report // one per platform scanned, for the severity counts
	byDigest := map[string]*scan.Report{}
	scanner := func(ctx context.Context, img v1.Image, platform string) (*scan.Report, error) {
		rep, err := scan.Scan(ctx, img, vdb, scan.Options{Cache: e.scanCache, ArtifactName: orig, Logger: t.log, Ignore: ignore})
		if err == nil {
			reports = append(reports, rep)
			if d, err := img.Digest(); err == nil {
				byDigest[d.String()] = rep
			}
		}
		return rep, err
	}
	// The time written into the attachments: recorded with the push, so
	// that a retry writes the same documents.
	publishedAt := time.Now().UTC().Truncate(time.Second)
	var verifyOriginal func(context.Context, name.Reference, v1.Descriptor) error
	if len(e.opts.RequireSignature) > 0 {
		verifyOriginal = publish.CheckOriginal(e.opts.Registry, e.opts.RequireSignature, t.log)
	}
	out, err := patch.Run(ctx, a.Registry+"/"+orig, patch.Options{
		VerifyOriginal: verifyOriginal,
		Client:         e.opts.Registry,
		Patchers:       e.patchers,
		Scan:           scanner,
		Convention:     a.Convention,
		WorkDir:        e.opts.WorkDir,
		Logger:         t.log,
		BeforePush: func(ctx context.Context, out *patch.Result) error {
			return t.recordPush(ctx, a, res, out, byDigest, publishedAt)
		},
	})
	switch {
	case errors.Is(err, publish.ErrUntrusted):
		// The verify-before-patch policy: skipped, never patched.
		res.SkippedReason = fmt.Sprintf("the original %s is %s (verify-before-patch policy): %v", orig, publish.ErrUntrusted, err)
		t.log.WarnContext(ctx, "patch skipped", "reason", res.SkippedReason)
		return StatusSkipped, res, nil
	case err != nil && ctx.Err() == nil && permanentPatchError(err):
		return "", res, permanent(err)
	case err != nil:
		return "", res, err
	}
	res.Fixable = len(out.Fixed)
	if !out.Changed() || out.Digest == "" {
		res.SkippedReason = "no fix available in the configured repositories for the vulnerabilities of " + orig
		t.log.InfoContext(ctx, "patch skipped", "reason", res.SkippedReason)
		return StatusSkipped, res, nil
	}
	fixed := slices.Sorted(slices.Values(out.Fixed))
	for _, rep := range reports {
		res.Severities = countSeverities(res.Severities, rep, nil)
		res.SeveritiesAfter = countSeverities(res.SeveritiesAfter, rep, fixed)
	}
	if res.Severities == nil {
		res.Severities = map[string]int{} // none, as opposed to not known
	}
	if res.SeveritiesAfter == nil {
		res.SeveritiesAfter = map[string]int{}
	}
	res.PatchedImage = a.Repository + ":" + out.Tag
	res.PatchedDigest = out.Digest
	t.log.InfoContext(ctx, "pushed patched image", "image", res.PatchedImage, "digest", out.Digest, "fixed", len(out.Fixed))
	if err := t.publish(ctx, a, out, byDigest, publishedAt, vdb, ignore, &res); err != nil {
		// The retry finds the push landed and publishes again
		// (publishLanded), writing only what is missing.
		return "", res, err
	}
	return StatusSucceeded, res, nil
}

// publish signs the pushed image and writes its attachments
// (publish.Run, idempotent), recording what it wrote in res.
func (t *task) publish(ctx context.Context, a PatchArgs, out *patch.Result, before map[string]*scan.Report, at time.Time, vdb *vulndb.DB, ignore *scan.Ignore, res *RunResult) error {
	e := t.e
	if len(e.opts.Signers) == 0 && !e.opts.Attach {
		return nil
	}
	var after patch.Scanner
	if vdb != nil {
		after = func(ctx context.Context, img v1.Image, platform string) (*scan.Report, error) {
			return scan.Scan(ctx, img, vdb, scan.Options{Cache: e.scanCache, ArtifactName: a.Repository + ":" + out.Tag, Logger: t.log, Ignore: ignore})
		}
	}
	pub, err := publish.Run(ctx, out, publish.Options{
		Client:  e.opts.Registry,
		Signers: e.opts.Signers,
		Attach:  e.opts.Attach,
		Before:  func(d string) *scan.Report { return before[d] },
		Scan:    after,
		Tool:    reportfmt.Tool{Name: "patchloop"},
		Now:     func() time.Time { return at },
		Logger:  t.log,
	})
	if err != nil {
		return fmt.Errorf("signing the patched image %s: %w", res.PatchedImage, err)
	}
	res.Signed, res.Attachments = pub.Signed, len(pub.Attachments)
	return nil
}

// publishLanded finishes the publish step of a patched image an earlier
// attempt pushed (its signing or an attachment failed, or its worker
// died): publish.Run again with what that attempt recorded, which writes
// only the signatures and attachments still missing. A record without
// them (written by an older version) gets the image signed only.
func (t *task) publishLanded(ctx context.Context, a PatchArgs, rec pushRecord, prev *RunResult) error {
	e := t.e
	if len(e.opts.Signers) == 0 && !e.opts.Attach || prev.PatchedDigest == "" {
		return nil
	}
	if rec.Publish == nil || rec.Publish.Patch == nil {
		return t.signLanded(ctx, a, prev)
	}
	var vdb *vulndb.DB
	var ignore *scan.Ignore
	if e.opts.Attach {
		var err error
		if ignore, err = e.loadIgnore(); err != nil {
			return err
		}
		if vdb, err = e.openVulnDB(ctx); err != nil {
			return err
		}
		defer vdb.Close()
	}
	if err := t.publish(ctx, a, rec.Publish.Patch, rec.Publish.Before, rec.Publish.At, vdb, ignore, prev); err != nil {
		return err
	}
	t.log.InfoContext(ctx, "published the patched image an earlier attempt pushed", "image", prev.PatchedImage, "schemes", prev.Signed, "attachments", prev.Attachments)
	return nil
}

// signLanded signs a patched image an earlier attempt pushed but did not
// sign, when the attempt recorded nothing to publish with.
func (t *task) signLanded(ctx context.Context, a PatchArgs, prev *RunResult) error {
	e := t.e
	if len(e.opts.Signers) == 0 || len(prev.Signed) > 0 {
		return nil
	}
	repo, err := e.opts.Registry.Repository(a.Registry + "/" + a.Repository)
	if err != nil {
		return err
	}
	target, err := publish.Target(ctx, e.opts.Registry, repo, prev.PatchedDigest)
	if err != nil {
		return err
	}
	if err := sign.EnsureAll(ctx, e.opts.Signers, target); err != nil {
		return err
	}
	for _, s := range e.opts.Signers {
		prev.Signed = append(prev.Signed, s.Scheme())
	}
	t.log.InfoContext(ctx, "signed the patched image an earlier attempt pushed", "image", target.String(), "schemes", prev.Signed)
	return nil
}

// pushRecord is what recordPush stores before the push: the run's result
// and, when something is to be published, what a retry needs to publish
// the same documents.
type pushRecord struct {
	RunResult
	Publish *publishRecord `json:"publish,omitempty"`
}

// publishRecord is the input of publish.Run of one patch.
type publishRecord struct {
	Patch  *patch.Result           `json:"patch"`
	Before map[string]*scan.Report `json:"before,omitempty"`
	At     time.Time               `json:"at"`
}

// recordPush records, under the run's lease, the result of the push about
// to happen; without the lease nothing is pushed.
func (t *task) recordPush(ctx context.Context, a PatchArgs, res RunResult, out *patch.Result, before map[string]*scan.Report, at time.Time) error {
	res.Fixable = len(out.Fixed)
	res.PatchedImage = a.Repository + ":" + out.Tag
	res.PatchedDigest = out.Digest
	rec := pushRecord{RunResult: res}
	if len(t.e.opts.Signers) > 0 || t.e.opts.Attach {
		rec.Publish = &publishRecord{Patch: out, At: at}
		if t.e.opts.Attach {
			rec.Publish.Before = map[string]*scan.Report{}
			for _, pr := range out.Platforms {
				if r := before[pr.Original]; r != nil && pr.Digest != "" {
					rec.Publish.Before[pr.Original] = r
				}
			}
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("recording the push: %w", err)
	}
	ok, err := t.e.store.SetPushing(ctx, t.ref.RunID, t.owner, string(StatusRunning), string(data))
	if err != nil {
		return err
	}
	if !ok {
		return t.whyNotHeld(ctx, t.e.store)
	}
	return nil
}

// landedPush returns the result an earlier attempt recorded before its
// push when the push landed (the tag names the recorded digest): a retry
// of a patch whose worker died after pushing finishes with it instead of
// pushing a second tag.
func (t *task) landedPush(ctx context.Context, a PatchArgs) (pushRecord, bool, error) {
	run, err := t.e.store.Run(ctx, t.ref.RunID)
	if err != nil || run.Pushing == "" {
		return pushRecord{}, false, err
	}
	var rec pushRecord
	if err := json.Unmarshal([]byte(run.Pushing), &rec); err != nil || rec.PatchedImage == "" {
		return pushRecord{}, false, nil
	}
	prev := rec.RunResult
	ref, err := t.e.opts.Registry.ParseReference(a.Registry + "/" + prev.PatchedImage)
	if err != nil {
		return pushRecord{}, false, nil
	}
	desc, err := t.e.opts.Registry.Resolve(ctx, ref)
	switch {
	case registry.IsNotFound(err):
		t.log.InfoContext(ctx, "the previous attempt's push did not land; patching again", "image", prev.PatchedImage)
		return pushRecord{}, false, nil
	case err != nil:
		return pushRecord{}, false, err
	case desc.Digest.String() != prev.PatchedDigest:
		t.log.InfoContext(ctx, "the previous attempt's push did not land; patching again", "image", prev.PatchedImage, "digest", desc.Digest)
		return pushRecord{}, false, nil
	}
	t.log.InfoContext(ctx, "the previous attempt pushed the patched image; not patching again", "image", prev.PatchedImage, "digest", prev.PatchedDigest)
	return rec, true, nil
}

// checkPatchRoom fails a patch at once when the lineage already has patch
// -999 (incremental convention), before downloading anything.
func (t *task) checkPatchRoom(ctx context.Context, a PatchArgs) error {
	if a.Convention == tags.Floating {
		return nil
	}
	client := t.e.opts.Registry
	repo, err := client.Repository(a.Registry + "/" + a.Repository)
	if err != nil {
		return permanent(err)
	}
	all, err := client.Tags(ctx, repo)
	if err != nil {
		return err
	}
	lin := tags.Group(all)[a.Tag]
	if lin == nil {
		return nil
	}
	if _, err := lin.Next(a.Convention); errors.Is(err, tags.ErrTooManyPatches) {
		return permanent(fmt.Errorf("image %s:%s: %w", a.Repository, a.Tag, tags.ErrTooManyPatches))
	} else if err != nil {
		return permanent(err)
	}
	return nil
}

// permanentPatchError reports whether retrying a failed patch is useless:
// the patcher marked the error permanent (patch.Permanent), or the image or
// its lineage leaves no room.
func permanentPatchError(err error) bool {
	return patch.IsPermanent(err) ||
		errors.Is(err, tags.ErrTooManyPatches) ||
		registry.IsNotFound(err)
}
