package patch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/platform"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/tags"
)

// Scanner returns the vulnerability report of one image; platform is
// "os/arch[/variant]" for display.
type Scanner func(ctx context.Context, img v1.Image, platform string) (*scan.Report, error)

// Options configure Run.
type Options struct {
	// Client reads and pushes images; required.
	Client *registry.Client
	// Patchers patch the images, by OS family (New builds the registered
	// ones); required.
	Patchers Patchers
	// Report, when set, lists the findings of every platform (a report
	// read with --report); otherwise Scan is called per platform.
	Report *scan.Report
	// PlatformReports, when set, are one report per platform (a report
	// directory, as Copa reads one): each platform is patched from the
	// report whose Metadata.ImageConfig has its OS and architecture (and
	// variant, when both name one); a platform without a report is left
	// as it is.
	PlatformReports []*scan.Report
	Scan            Scanner
	// Convention and Tag choose the tag (see ChooseTag).
	Convention tags.Convention
	Tag        string
	// DryRun plans without downloading packages or pushing.
	DryRun bool
	// WorkDir is where temporary files go; empty means the system's
	// temporary directory.
	WorkDir string
	// BeforePush, when set, is called with the Result of a push about to
	// happen (Reference, Tag and Digest set); an error stops the push.
	// The workflow records the push there, so that a retry can tell
	// whether it landed.
	BeforePush func(ctx context.Context, res *Result) error
	// VerifyOriginal, when set, is called with the manifest the image
	// reference resolved to, before anything is patched; an error stops
	// the patch. Checking the digest actually patched (not the tag
	// resolved earlier) leaves no window to swap the image.
	VerifyOriginal func(ctx context.Context, ref name.Reference, desc v1.Descriptor) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// Result is what Run did.
type Result struct {
	// Image is the image as given.
	Image string `json:"image"`
	// Reference is the pushed reference (repository:tag); empty when
	// nothing was pushed.
	Reference string `json:"reference,omitempty"`
	Tag       string `json:"tag,omitempty"`
	// Digest is the digest of the pushed image or index.
	Digest string `json:"digest,omitempty"`
	// DryRun is true when nothing was downloaded or pushed.
	DryRun bool `json:"dryRun,omitempty"`
	// Platforms says what happened to each platform.
	Platforms []PlatformResult `json:"platforms"`
	// Updates, Fixed, Unfixed and SkippedScripts merge those of every
	// platform.
	Updates        []Update         `json:"updates"`
	Fixed          []string         `json:"fixed"`
	Unfixed        []Unfixed        `json:"unfixed,omitempty"`
	SkippedScripts []SkippedScripts `json:"skippedScripts,omitempty"`
}

// Changed reports whether the patch changes (or, in a dry run, would
// change) any platform.
func (r *Result) Changed() bool { return len(r.Updates) > 0 }

// PlatformResult is what happened to one platform image.
type PlatformResult struct {
	// Platform is "os/arch[/variant]".
	Platform string `json:"platform"`
	// Family is the image's OS family ("debian"), when known.
	Family string `json:"family,omitempty"`
	// Original is the digest of the image patched.
	Original string `json:"original"`
	// Digest is the digest of the patched image; empty when unchanged.
	Digest string `json:"digest,omitempty"`
	// Skipped says why the platform was not patched.
	Skipped string `json:"skipped,omitempty"`
	// Outcome is the patcher's outcome, when one ran.
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Run patches the image named by ref (a registry reference): every Linux
// platform of an index, or the single image. Platforms that cannot be
// patched (Windows, unsupported OS, nothing to fix) keep their original
// descriptors. When something changed and this is not a dry run, the new
// image or index is pushed, blobs and child manifests first, under the
// tag ChooseTag gives. Nothing to fix is not an error: the Result has no
// updates and nothing is pushed.
func Run(ctx context.Context, ref string, opts Options) (*Result, error) {
	if opts.Client == nil {
		return nil, errors.New("patch: no registry client")
	}
	if len(opts.Patchers) == 0 {
		return nil, errors.New("patch: no patchers")
	}
	if opts.Report == nil && opts.Scan == nil && len(opts.PlatformReports) == 0 {
		return nil, errors.New("patch: neither a report nor a scanner")
	}
	// The context's logger (a task run's) wins over Options.Logger.
	r := &runner{opts: opts, log: logctx.From(ctx, opts.Logger), now: opts.Now}
	if r.now == nil {
		r.now = time.Now
	}
	workDir, err := os.MkdirTemp(opts.WorkDir, "patchloop-patch-*")
	if err != nil {
		return nil, fmt.Errorf("patch: %w", err)
	}
	defer os.RemoveAll(workDir)
	r.workDir = workDir
	return r.run(WithLogger(ctx, r.log), ref)
}

// runner is one Run.
type runner struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	workDir string
}

// run patches the image arg names and pushes the result.
func (r *runner) run(ctx context.Context, arg string) (*Result, error) {
	client := r.opts.Client
	ref, err := client.ParseReference(arg)
	if err != nil {
		return nil, err
	}
	desc, err := client.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if r.opts.VerifyOriginal != nil {
		if err := r.opts.VerifyOriginal(ctx, ref, desc.Descriptor); err != nil {
			return nil, err
		}
	}
	res := &Result{Image: arg, DryRun: r.opts.DryRun, Updates: []Update{}, Fixed: []string{}}
	var out remote.Taggable
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("reading index %s: %w", ref, err)
		}
		newIdx, err := r.patchIndex(ctx, arg, idx, desc.Digest, res)
		if err != nil {
			return nil, err
		}
		if newIdx != nil {
			out = newIdx
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			return nil, fmt.Errorf("reading image %s: %w", ref, err)
		}
		newImg, pr, err := r.patchImage(ctx, arg, img, "")
		if err != nil {
			return nil, err
		}
		res.Platforms = append(res.Platforms, pr)
		if newImg != nil {
			out = newImg
		}
	}
	merge(res)
	if !res.Changed() {
		r.log.InfoContext(ctx, "nothing to patch", "image", arg)
		return res, nil
	}
	tag, err := ChooseTag(ctx, client, ref, r.opts.Convention, r.opts.Tag)
	if err != nil {
		return nil, err
	}
	res.Tag, res.Reference = tag.TagStr(), tag.String()
	if r.opts.DryRun || out == nil {
		return res, nil
	}
	d, err := digestOf(out)
	if err != nil {
		return nil, err
	}
	res.Digest = d.String()
	if r.opts.BeforePush != nil {
		if err := r.opts.BeforePush(ctx, res); err != nil {
			return nil, err
		}
	}
	if err := client.Push(ctx, tag, out); err != nil {
		return nil, err
	}
	r.log.InfoContext(ctx, "pushed patched image", "reference", res.Reference, "digest", res.Digest)
	return res, nil
}

// skipNothing is the Skipped reason of a platform without fixable
// findings.
const skipNothing = "nothing to fix"

// skipNoReport is the Skipped reason of a platform that no report of a
// report directory describes.
const skipNoReport = "no report for this platform"

// patchIndex patches every Linux image of an index, as platform.Walk
// finds them; attestations, artifacts, other platforms and images of
// nested indexes keep their descriptors. It returns nil when no platform
// changed, and an error wrapping ErrUnsupported when no platform has a
// patchable OS.
func (r *runner) patchIndex(ctx context.Context, arg string, idx v1.ImageIndex, digest v1.Hash, res *Result) (v1.ImageIndex, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", arg, err)
	}
	ms, err := platform.Walk(idx, im.Manifests)
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", arg, err)
	}
	patched := map[v1.Hash]v1.Image{}
	patchable := false // some platform has an OS a patcher handles
	for _, m := range ms {
		plat := m.String()
		pr := PlatformResult{Platform: plat, Original: m.Descriptor.Digest.String(), Skipped: m.Skip}
		switch {
		case pr.Skipped != "":
		case m.Platform.OS != "linux":
			pr.Skipped = "not a Linux platform"
		case m.Nested:
			pr.Skipped = "in a nested index: not patched"
		}
		if pr.Skipped != "" {
			res.Platforms = append(res.Platforms, pr)
			continue
		}
		img, err := m.Image()
		if err != nil {
			return nil, fmt.Errorf("reading %s (%s): %w", arg, plat, err)
		}
		newImg, pr, err := r.patchImage(ctx, arg, img, plat)
		if errors.Is(err, ErrUnsupported) {
			// Another platform's OS may be patchable; this one keeps its
			// original manifest.
			pr.Skipped = err.Error()
			r.log.WarnContext(ctx, "platform not patched", "image", arg, "platform", plat, "reason", err)
		} else if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", arg, plat, err)
		} else {
			patchable = true
		}
		res.Platforms = append(res.Platforms, pr)
		if newImg != nil {
			patched[m.Descriptor.Digest] = newImg
		}
	}
	if !patchable {
		var reasons []string
		for _, pr := range res.Platforms {
			reasons = append(reasons, fmt.Sprintf("%s: %s", cmp.Or(pr.Platform, "no platform"), pr.Skipped))
		}
		return nil, fmt.Errorf("image %s: %w: no platform of the index has a patchable OS (%s)", arg, ErrUnsupported, strings.Join(reasons, "; "))
	}
	if len(patched) == 0 {
		return nil, nil
	}
	return ReplaceManifests(idx, patched, map[string]string{
		AnnotationBaseDigest: digest.String(),
		AnnotationBaseName:   arg,
	})
}

// patchImage patches one platform image. It returns a nil image when the
// platform is not changed (dry run, nothing to fix, unsupported), saying
// why in PlatformResult.Skipped.
func (r *runner) patchImage(ctx context.Context, arg string, img v1.Image, plat string) (v1.Image, PlatformResult, error) {
	digest, err := img.Digest()
	if err != nil {
		return nil, PlatformResult{}, fmt.Errorf("image %s: digest: %w", arg, err)
	}
	pr := PlatformResult{Platform: plat, Original: digest.String()}
	if pr.Platform == "" {
		if cfg, err := img.ConfigFile(); err == nil {
			pr.Platform = platform.String(cfg.Platform())
		}
	}
	rep := r.opts.Report
	if len(r.opts.PlatformReports) > 0 {
		if rep = ReportForPlatform(r.opts.PlatformReports, pr.Platform); rep == nil {
			pr.Skipped = skipNoReport
			return nil, pr, nil
		}
	}
	if rep == nil {
		if rep, err = r.opts.Scan(ctx, img, pr.Platform); err != nil {
			return nil, pr, err
		}
	}
	findings := FindingsFromReport(rep)
	if len(findings) == 0 {
		// No findings on an image without an OS means "cannot patch",
		// not "nothing to fix".
		if reason, err := noOS(ctx, img, rep); err != nil {
			return nil, pr, fmt.Errorf("image %s: detecting the OS: %w", arg, err)
		} else if reason != "" {
			return nil, pr, fmt.Errorf("image %s (%s): %w: the image's OS is not patchable: %s", arg, pr.Platform, ErrUnsupported, reason)
		}
		pr.Skipped = skipNothing
		return nil, pr, nil
	}
	if !rep.Supported() {
		pr.Skipped = rep.Unsupported
		return nil, pr, nil
	}
	family := ""
	if rep.Metadata.OS != nil {
		family = rep.Metadata.OS.Family
	}
	if family == "" {
		inv, err := ospkg.Inspect(ctx, img)
		if err != nil {
			return nil, pr, fmt.Errorf("image %s: detecting the OS: %w", arg, err)
		}
		family = string(inv.OS.Family)
	}
	pr.Family = family
	p, err := r.opts.Patchers.For(ospkg.NormalizeFamily(family))
	if err != nil {
		return nil, pr, fmt.Errorf("image %s (%s): %w", arg, pr.Platform, err)
	}
	r.log.InfoContext(ctx, "patching", "image", arg, "platform", pr.Platform, "patcher", p.Name(), "findings", len(findings))
	out, err := p.Patch(ctx, img, Request{Findings: findings, DryRun: r.opts.DryRun, WorkDir: r.workDir})
	if err != nil {
		return nil, pr, fmt.Errorf("image %s (%s): %w", arg, pr.Platform, err)
	}
	pr.Outcome = out
	if out.Layer == nil {
		if len(out.Updates) == 0 {
			pr.Skipped = "no fix available"
		}
		return nil, pr, nil
	}
	newImg, err := AppendLayer(img, out.Layer, out.LayerHistory, Base{Name: arg, Digest: digest}, r.now())
	if err != nil {
		return nil, pr, err
	}
	d, err := newImg.Digest()
	if err != nil {
		return nil, pr, fmt.Errorf("image %s: patched digest: %w", arg, err)
	}
	pr.Digest = d.String()
	if ld, lerr := out.Layer.Digest(); lerr == nil {
		size, _ := out.Layer.Size()
		r.log.InfoContext(ctx, "new layer", "image", arg, "platform", pr.Platform, "layer", ld.String(), "bytes", size, "packages", len(out.Updates))
	}
	return newImg, pr, nil
}

// noOS says why img has no patchable OS (Windows, no OS release file, no
// layers at all), or "" when it has one. A scan report says so itself; a
// report from elsewhere without OS metadata is checked against the image.
func noOS(ctx context.Context, img v1.Image, rep *scan.Report) (string, error) {
	if rep.Metadata.OS != nil && rep.Metadata.OS.Family != "" {
		return "", nil
	}
	if rep.Unsupported != "" {
		return rep.Unsupported, nil
	}
	_, err := ospkg.Inspect(ctx, img)
	var unsupported *ospkg.UnsupportedOSError
	if errors.As(err, &unsupported) {
		return unsupported.Reason, nil
	}
	return "", err
}

// merge fills the Result's merged lists from its platforms.
func merge(res *Result) {
	type key struct{ name, arch, from, to string }
	seenU := map[key]bool{}
	fixed := map[string]bool{}
	seenX := map[Unfixed]bool{}
	scripts := map[string][]string{}
	for _, pr := range res.Platforms {
		if pr.Outcome == nil {
			continue
		}
		for _, u := range pr.Outcome.Updates {
			k := key{u.Name, u.Arch, u.From, u.To}
			if !seenU[k] {
				seenU[k] = true
				res.Updates = append(res.Updates, u)
			}
		}
		for _, f := range pr.Outcome.Fixed {
			fixed[f] = true
		}
		for _, u := range pr.Outcome.Unfixed {
			if !seenX[u] {
				seenX[u] = true
				res.Unfixed = append(res.Unfixed, u)
			}
		}
		for _, s := range pr.Outcome.SkippedScripts {
			for _, sc := range s.Scripts {
				if !slices.Contains(scripts[s.Package], sc) {
					scripts[s.Package] = append(scripts[s.Package], sc)
				}
			}
		}
	}
	for f := range fixed {
		res.Fixed = append(res.Fixed, f)
	}
	slices.Sort(res.Fixed)
	slices.SortStableFunc(res.Updates, func(a, b Update) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Arch, b.Arch))
	})
	for _, p := range sortedKeys(scripts) {
		res.SkippedScripts = append(res.SkippedScripts, SkippedScripts{Package: p, Scripts: scripts[p]})
	}
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// digestOf returns the digest of an image or index.
func digestOf(t remote.Taggable) (v1.Hash, error) {
	switch x := t.(type) {
	case v1.Image:
		return x.Digest()
	case v1.ImageIndex:
		return x.Digest()
	}
	return v1.Hash{}, fmt.Errorf("unexpected %T", t)
}
