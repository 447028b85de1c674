// Package publish runs after a patched image is pushed: it signs the
// image (and, for an index, each patched platform manifest) with the
// configured signers, and attaches what Patchloop knows about it as
// signed OCI 1.1 referrers: the OpenVEX document of the vulnerabilities
// fixed, SBOMs of the OS packages after patching (SPDX and CycloneDX
// JSON), and the scan reports before and after (Trivy JSON). Referrers
// of the original image are listed in the log, not copied: they describe
// the original.
package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/reportfmt"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/sign"
)

// Artifact types of the attachments.
const (
	ArtifactTypeOpenVEX   = "application/openvex+json"
	ArtifactTypeSPDX      = "application/spdx+json"
	ArtifactTypeCycloneDX = "application/vnd.cyclonedx+json"
	// ArtifactTypeScanReport is a Trivy JSON report; AnnotationReport
	// says whether it is from before or after the patch.
	ArtifactTypeScanReport = "application/vnd.patchloop.trivy-report.v1+json"
	// AnnotationReport is "before" or "after" on scan reports.
	AnnotationReport = "dev.patchloop.report"
	// AnnotationPlatform names the platform an attachment describes.
	AnnotationPlatform = "dev.patchloop.platform"
	annCreated         = "org.opencontainers.image.created"
)

// Kinds of attachment, as `patchloop verify --require` names them.
const (
	KindVEX          = "vex"
	KindSPDX         = "spdx"
	KindCycloneDX    = "cyclonedx"
	KindReportBefore = "report-before"
	KindReportAfter  = "report-after"
)

// AllKinds lists every kind of attachment.
var AllKinds = []string{KindVEX, KindSPDX, KindCycloneDX, KindReportBefore, KindReportAfter}

// KindOf names the kind of an attachment descriptor; "" when it is not
// one Patchloop writes.
func KindOf(d v1.Descriptor) string {
	switch d.ArtifactType {
	case ArtifactTypeOpenVEX:
		return KindVEX
	case ArtifactTypeSPDX:
		return KindSPDX
	case ArtifactTypeCycloneDX:
		return KindCycloneDX
	case ArtifactTypeScanReport:
		switch d.Annotations[AnnotationReport] {
		case "before":
			return KindReportBefore
		case "after":
			return KindReportAfter
		}
	}
	return ""
}

// Options configure Run.
type Options struct {
	// Client reads and writes the registry; required.
	Client *registry.Client
	// Signers sign the image and every attachment; none means unsigned
	// attachments (and no signature).
	Signers []sign.Signer
	// Attach turns the attachments on.
	Attach bool
	// Before returns the scan report of an original platform image, by
	// its digest, that the patch was made from; nil or a nil report
	// means no "before" report.
	Before func(original string) *scan.Report
	// Scan scans a patched platform image for the "after" report and
	// the SBOMs; nil means neither is attached.
	Scan patch.Scanner
	// Tool names Patchloop in the SBOMs.
	Tool reportfmt.Tool
	// Now is the clock; nil means time.Now. The documents written are
	// a function of the patch, the reports and Now: a retried Run with
	// the same Now writes the same attachments (same digests).
	Now func() time.Time
	// Logger receives progress when the context carries none.
	Logger *slog.Logger
}

// Result is what Run wrote.
type Result struct {
	// Signed lists the signature schemes the image was signed with.
	Signed []string `json:"signed,omitempty"`
	// Attachments are the referrers pushed.
	Attachments []Attachment `json:"attachments,omitempty"`
	// OriginalReferrers are the referrers of the original image (and
	// its platform manifests), listed, not copied.
	OriginalReferrers []Attachment `json:"originalReferrers,omitempty"`
}

// Attachment is one referrer.
type Attachment struct {
	// Subject is the digest of the manifest it refers to.
	Subject string `json:"subject"`
	// Kind is the attachment kind (see AllKinds); empty for others.
	Kind         string `json:"kind,omitempty"`
	ArtifactType string `json:"artifactType"`
	Digest       string `json:"digest"`
	Platform     string `json:"platform,omitempty"`
}

// Run signs the pushed image of res and attaches its documents. res must
// be a pushed patch (Reference and Digest set). Run is idempotent: run
// again after a failure (with the same Now), it writes only the
// signatures and attachments that are missing, never a second copy.
func Run(ctx context.Context, res *patch.Result, opts Options) (*Result, error) {
	if res == nil || res.Digest == "" || res.Reference == "" {
		return nil, errors.New("publish: the patched image was not pushed")
	}
	if opts.Client == nil {
		return nil, errors.New("publish: no registry client")
	}
	log := logctx.From(ctx, opts.Logger)
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	p := &publisher{opts: opts, log: log, now: now, out: &Result{}}
	ref, err := opts.Client.ParseReference(res.Reference)
	if err != nil {
		return nil, err
	}
	p.repo = ref.Context()
	p.listOriginal(ctx, res)
	top, err := p.target(ctx, res.Digest)
	if err != nil {
		return nil, err
	}
	if err := sign.EnsureAll(ctx, opts.Signers, top); err != nil {
		return nil, err
	}
	for _, s := range opts.Signers {
		p.out.Signed = append(p.out.Signed, s.Scheme())
	}
	if len(opts.Signers) > 0 {
		log.InfoContext(ctx, "signed patched image", "image", top.String(), "schemes", p.out.Signed)
	}
	if opts.Attach {
		doc, err := patch.OpenVEX(res, now())
		if err != nil {
			return nil, err
		}
		data, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := p.attach(ctx, top, "", ArtifactTypeOpenVEX, "application/openvex+json", data, nil); err != nil {
			return nil, err
		}
	}
	for _, pr := range res.Platforms {
		if pr.Digest == "" {
			continue
		}
		pt := top
		if pr.Digest != res.Digest {
			// A platform of a patched index: signed on its own too, as
			// `cosign sign --recursive` does.
			if pt, err = p.target(ctx, pr.Digest); err != nil {
				return nil, err
			}
			if err := sign.EnsureAll(ctx, opts.Signers, pt); err != nil {
				return nil, err
			}
		}
		if opts.Attach {
			if err := p.platformDocs(ctx, pt, pr); err != nil {
				return nil, err
			}
		}
	}
	return p.out, nil
}

// publisher is one Run.
type publisher struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time
	repo name.Repository
	out  *Result
}

// target resolves a manifest of the patched repository by digest.
func (p *publisher) target(ctx context.Context, digest string) (sign.Target, error) {
	return Target(ctx, p.opts.Client, p.repo, digest)
}

// Target resolves repo@digest into a signing target.
func Target(ctx context.Context, client *registry.Client, repo name.Repository, digest string) (sign.Target, error) {
	d, err := client.Resolve(ctx, repo.Digest(digest))
	if err != nil {
		return sign.Target{}, err
	}
	return sign.Target{Repo: repo, Descriptor: v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest}, Options: client.Options(ctx)}, nil
}

// platformDocs attaches the reports and SBOMs of one patched platform.
func (p *publisher) platformDocs(ctx context.Context, t sign.Target, pr patch.PlatformResult) error {
	if p.opts.Before != nil {
		if rep := p.opts.Before(pr.Original); rep != nil {
			data, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				return err
			}
			if err := p.attach(ctx, t, pr.Platform, ArtifactTypeScanReport, "application/json", data, map[string]string{AnnotationReport: "before"}); err != nil {
				return err
			}
		}
	}
	if p.opts.Scan == nil {
		p.log.InfoContext(ctx, "no scanner: the patched image's SBOMs and scan report are not attached", "image", t.String())
		return nil
	}
	img, err := p.opts.Client.Image(ctx, t.Digest(), nil)
	if err != nil {
		return err
	}
	rep, err := p.opts.Scan(ctx, img, pr.Platform)
	if err != nil {
		return fmt.Errorf("scanning the patched image %s: %w", t, err)
	}
	// The report's time is the publish time, so that a retried Run
	// writes the same document.
	after := *rep
	after.CreatedAt = p.now().UTC()
	data, err := json.MarshalIndent(&after, "", "  ")
	if err != nil {
		return err
	}
	if err := p.attach(ctx, t, pr.Platform, ArtifactTypeScanReport, "application/json", data, map[string]string{AnnotationReport: "after"}); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reportfmt.WriteSPDX(&buf, []*scan.Report{rep}, p.opts.Tool, p.now()); err != nil {
		return err
	}
	if err := p.attach(ctx, t, pr.Platform, ArtifactTypeSPDX, ArtifactTypeSPDX, bytes.Clone(buf.Bytes()), nil); err != nil {
		return err
	}
	buf.Reset()
	if err := reportfmt.WriteCycloneDX(&buf, []*scan.Report{rep}, p.opts.Tool, p.now()); err != nil {
		return err
	}
	return p.attach(ctx, t, pr.Platform, ArtifactTypeCycloneDX, ArtifactTypeCycloneDX, buf.Bytes(), nil)
}

// attach pushes one document as a referrer of t and signs it. An
// attachment of the same kind and platform already there (an earlier
// attempt's) is kept instead when it is the same document, or when it is
// already signed by every signer; its missing signatures are added.
// Another one (unsigned, someone else's) is never signed: ours is pushed.
func (p *publisher) attach(ctx context.Context, t sign.Target, platform, artifactType, mediaType string, data []byte, ann map[string]string) error {
	annotations := map[string]string{annCreated: p.now().UTC().Format(time.RFC3339)}
	for k, v := range ann {
		annotations[k] = v
	}
	if platform != "" {
		annotations[AnnotationPlatform] = platform
	}
	art := sign.Artifact{
		ArtifactType: artifactType,
		Blobs:        []sign.Blob{{MediaType: types.MediaType(mediaType), Data: data}},
		Annotations:  annotations,
		Subject:      &v1.Descriptor{MediaType: t.Descriptor.MediaType, Size: t.Descriptor.Size, Digest: t.Descriptor.Digest},
	}
	d, err := p.existing(ctx, t, art, platform)
	if err != nil {
		return err
	}
	if d == nil {
		pushed, err := art.Push(ctx, t)
		if err != nil {
			return err
		}
		d = &pushed
	} else {
		p.log.InfoContext(ctx, "attachment already written by an earlier attempt", "subject", t.String(), "digest", d.Digest.String())
	}
	d.Annotations = annotations
	at := sign.Target{Repo: t.Repo, Descriptor: *d, Options: t.Options}
	if err := sign.EnsureAll(ctx, p.opts.Signers, at); err != nil {
		return err
	}
	a := Attachment{Subject: t.Descriptor.Digest.String(), Kind: KindOf(*d), ArtifactType: artifactType, Digest: d.Digest.String(), Platform: platform}
	p.out.Attachments = append(p.out.Attachments, a)
	p.log.InfoContext(ctx, "attached", "kind", a.Kind, "subject", t.String(), "digest", a.Digest, "platform", platform)
	return nil
}

// existing returns the descriptor of an attachment of t that stands for
// art: a referrer with art's digest, or one of the same kind and platform
// signed by every signer; nil when there is none.
func (p *publisher) existing(ctx context.Context, t sign.Target, art sign.Artifact, platform string) (*v1.Descriptor, error) {
	img, err := art.Image()
	if err != nil {
		return nil, err
	}
	want, err := img.Digest()
	if err != nil {
		return nil, err
	}
	refs, err := sign.Referrers(ctx, t, art.ArtifactType)
	if err != nil {
		return nil, err
	}
	kind := KindOf(v1.Descriptor{ArtifactType: art.ArtifactType, Annotations: art.Annotations})
	var same []v1.Descriptor
	for _, r := range refs {
		if r.Digest == want {
			d := r
			return &d, nil
		}
		if KindOf(r) == kind && r.Annotations[AnnotationPlatform] == platform {
			same = append(same, r)
		}
	}
	if len(p.opts.Signers) == 0 {
		return nil, nil
	}
	for i, r := range same {
		if i == 8 {
			break
		}
		// Its manifest must name t (a list may lie), and be of the kind.
		m, err := sign.ReadReferrer(ctx, t, r.Digest)
		if errors.Is(err, sign.ErrOtherSubject) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if KindOf(v1.Descriptor{ArtifactType: m.ArtifactType, Annotations: m.Annotations}) != kind || m.Annotations[AnnotationPlatform] != platform {
			continue
		}
		ok, err := sign.SignedByAll(ctx, p.opts.Signers, sign.Target{Repo: t.Repo, Descriptor: r, Options: t.Options})
		if err != nil {
			return nil, err
		}
		if ok {
			d := r
			return &d, nil
		}
	}
	return nil, nil
}

// listOriginal logs the referrers of the original image's manifests
// (its SBOMs, provenance, signatures); they are not copied.
func (p *publisher) listOriginal(ctx context.Context, res *patch.Result) {
	orig, err := p.opts.Client.ParseReference(res.Image)
	if err != nil {
		return
	}
	digests := []string{}
	if d, err := p.opts.Client.Resolve(ctx, orig); err == nil {
		digests = append(digests, d.Digest.String())
	}
	for _, pr := range res.Platforms {
		if pr.Original != "" && (len(digests) == 0 || pr.Original != digests[0]) {
			digests = append(digests, pr.Original)
		}
	}
	for _, d := range digests {
		t, err := Target(ctx, p.opts.Client, orig.Context(), d)
		if err != nil {
			continue
		}
		refs, err := sign.Referrers(ctx, t, "")
		if err != nil {
			p.log.WarnContext(ctx, "cannot list the original's referrers", "image", t.String(), "error", err)
			continue
		}
		for _, r := range refs {
			p.out.OriginalReferrers = append(p.out.OriginalReferrers, Attachment{Subject: d, ArtifactType: r.ArtifactType, Digest: r.Digest.String()})
			p.log.InfoContext(ctx, "original's referrer not copied (it describes the original)", "subject", t.String(), "artifactType", r.ArtifactType, "digest", r.Digest.String())
		}
	}
}

// ErrUntrusted is wrapped by the errors of CheckOriginal when the
// original is not signed by a trusted key.
var ErrUntrusted = errors.New("not signed by a trusted key")

// CheckOriginal returns a patch.Options.VerifyOriginal hook applying the
// verify-before-patch policy: the manifest about to be patched must carry
// a signature that one of verifiers accepts. A missing or wrong signature
// gives an error wrapping ErrUntrusted (and sign.ErrNotSigned or
// sign.ErrBadSignature); a registry error is returned as it is.
func CheckOriginal(client *registry.Client, verifiers []sign.Verifier, log *slog.Logger) func(context.Context, name.Reference, v1.Descriptor) error {
	return func(ctx context.Context, ref name.Reference, desc v1.Descriptor) error {
		t := sign.Target{Repo: ref.Context(), Descriptor: v1.Descriptor{MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest}, Options: client.Options(ctx)}
		err := sign.VerifyAny(ctx, verifiers, t)
		switch {
		case err == nil:
			logctx.From(ctx, log).InfoContext(ctx, "original's signature verified", "image", t.String())
			return nil
		case errors.Is(err, sign.ErrNotSigned) || errors.Is(err, sign.ErrBadSignature):
			return fmt.Errorf("%s: %w: %w", t, ErrUntrusted, err)
		}
		return err
	}
}
