// Package discover expands a workflow config against a registry: which
// images a workflow would patch, what their latest patch is and what the
// next one will be tagged. The dry run prints its result and the trigger
// task queues a scan for each target.
package discover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/patchloop/patchloop/internal/config"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/tags"
)

// Target is one original image a workflow patches.
type Target struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// Digest is the manifest digest the tag points at (empty unless
	// Options.Digests is set).
	Digest string `json:"digest"`
	// LatestPatchTag is the newest patch under the config's convention, or
	// nil when there is none.
	LatestPatchTag *string `json:"latestPatchTag"`
	// NextPatchTag is what the next patch will be tagged. Empty when the
	// lineage already has 999 incremental patches (see NextPatchError).
	NextPatchTag string `json:"nextPatchTag"`
	// NextPatchError says why there is no next tag.
	NextPatchError string `json:"nextPatchError,omitempty"`
}

// Warning is a problem that leaves a target out without failing the run: a
// repository or a listed tag that does not exist.
type Warning struct {
	Repository string
	Tag        string // empty for a whole repository
	Msg        string
}

func (w Warning) String() string {
	if w.Tag == "" {
		return fmt.Sprintf("repository %q: %s", w.Repository, w.Msg)
	}
	return fmt.Sprintf("%s:%s: %s", w.Repository, w.Tag, w.Msg)
}

// Options tune Targets.
type Options struct {
	// Parallel bounds how many repositories are listed (and tags resolved)
	// at once (default 16).
	Parallel int
	// Digests resolves each target's manifest digest (one HEAD request per
	// target).
	Digests bool
	// MaxImages fails the expansion when it would select more targets, as a
	// safety limit (0: no limit).
	MaxImages int
}

// ErrTooManyImages is returned when the config selects more than
// Options.MaxImages images. Its text is the one the dry run, create,
// update and a cycle's trigger all print.
var ErrTooManyImages = errors.New("config selects more images than --max-images")

// Result is the expansion of a config.
type Result struct {
	Targets  []Target
	Warnings []Warning
}

// Targets lists, in config order, the images the enabled repositories of
// cfg select in the registry host. Repositories and tags that do not exist
// become warnings; any other registry error fails the whole expansion.
func Targets(ctx context.Context, c *registry.Client, host string, cfg *config.Config, opts Options) (*Result, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 16
	}
	repos := cfg.EnabledRepositories()
	perRepo := make([]repoResult, len(repos))
	err := forEach(ctx, len(repos), opts.Parallel, func(ctx context.Context, i int) error {
		var err error
		perRepo[i], err = expandRepo(ctx, c, host, repos[i], cfg.TagConvention)
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, pr := range perRepo {
		res.Targets = append(res.Targets, pr.targets...)
		res.Warnings = append(res.Warnings, pr.warnings...)
	}
	if opts.MaxImages > 0 && len(res.Targets) > opts.MaxImages {
		return nil, fmt.Errorf("%w: %d images selected, limit %d; narrow the config or raise --max-images", ErrTooManyImages, len(res.Targets), opts.MaxImages)
	}
	if opts.Digests {
		if err := resolveDigests(ctx, c, host, res.Targets, opts.Parallel); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type repoResult struct {
	targets  []Target
	warnings []Warning
}

func expandRepo(ctx context.Context, c *registry.Client, host string, r config.Repository, conv tags.Convention) (repoResult, error) {
	repo, err := c.Repository(host + "/" + r.Name)
	if err != nil {
		return repoResult{}, err
	}
	all, err := c.Tags(ctx, repo)
	if registry.IsNotFound(err) {
		return repoResult{warnings: []Warning{{Repository: r.Name, Msg: "repository not found in " + host + "; it is skipped"}}}, nil
	}
	if err != nil {
		return repoResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return repoResult{}, err
	}
	lineages := tags.Group(all)
	if err := ctx.Err(); err != nil {
		return repoResult{}, err
	}
	var out repoResult
	var originals []string
	if r.AllTags() {
		for orig, l := range lineages {
			// Signature and referrer tags (sha256-<hex>.sig …) are
			// not images to patch.
			if l.Present && !tags.IsDigestTag(orig) {
				originals = append(originals, orig)
			}
		}
		slices.Sort(originals)
	} else {
		for _, t := range r.Tags {
			if l := lineages[t]; l == nil || !l.Present {
				out.warnings = append(out.warnings, Warning{Repository: r.Name, Tag: t, Msg: "tag not found in " + host + "; it is skipped"})
				continue
			}
			originals = append(originals, t)
		}
	}
	out.targets = make([]Target, 0, len(originals))
	for i, orig := range originals {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return repoResult{}, err
			}
		}
		out.targets = append(out.targets, newTarget(r.Name, lineages[orig], conv))
	}
	return out, nil
}

// checkEvery is how many targets are built between two looks at the
// context, so that a repository of millions of tags still stops promptly.
const checkEvery = 1024

func newTarget(repo string, l *tags.Lineage, conv tags.Convention) Target {
	t := Target{Repository: repo, Tag: l.Original}
	if latest := l.Latest(conv); latest != "" {
		t.LatestPatchTag = &latest
	}
	next, err := l.Next(conv)
	if err != nil {
		t.NextPatchError = err.Error()
	}
	t.NextPatchTag = next
	return t
}

func resolveDigests(ctx context.Context, c *registry.Client, host string, targets []Target, parallel int) error {
	return forEach(ctx, len(targets), parallel, func(ctx context.Context, i int) error {
		t := &targets[i]
		ref, err := c.ParseReference(host + "/" + t.Repository + ":" + t.Tag)
		if err != nil {
			return err
		}
		d, err := c.Resolve(ctx, ref)
		if err != nil {
			return err
		}
		t.Digest = d.Digest.String()
		return nil
	})
}

// forEach calls fn for 0…n-1 with at most parallel calls at once. The first
// error cancels the calls not yet started and is returned.
func forEach(ctx context.Context, n, parallel int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}
