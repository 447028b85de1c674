package publish

import (
	"context"
	"errors"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/sign"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Client reads the registry; required.
	Client *registry.Client
	// Verifiers are the trusted keys and certificates; one accepting a
	// signature is enough. Required.
	Verifiers []sign.Verifier
	// Require lists the attachment kinds (AllKinds) that must be
	// present; every attachment present must be signed either way.
	Require []string
}

// Check is one verified item: the image, a platform manifest or an
// attachment.
type Check struct {
	// What is "image", "platform" or an attachment kind.
	What     string `json:"what"`
	Digest   string `json:"digest"`
	Subject  string `json:"subject,omitempty"`
	Platform string `json:"platform,omitempty"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
}

// Verification is what Verify found.
type Verification struct {
	Image  string  `json:"image"`
	Digest string  `json:"digest"`
	Checks []Check `json:"checks"`
	// Missing lists the required attachment kinds not found.
	Missing []string `json:"missing,omitempty"`
	// OK is true when every check passed and nothing is missing.
	OK bool `json:"ok"`
}

// ErrVerification is wrapped by Verification.Err.
var ErrVerification = errors.New("verification failed")

// Err is nil when v.OK, else an error naming the first failure.
func (v *Verification) Err() error {
	if v.OK {
		return nil
	}
	for _, c := range v.Checks {
		if !c.OK {
			return fmt.Errorf("%s: %w: %s %s: %s", v.Image, ErrVerification, c.What, c.Digest, c.Error)
		}
	}
	return fmt.Errorf("%s: %w: missing attachments: %v", v.Image, ErrVerification, v.Missing)
}

// Verify checks a patched image: its signature, the signature of every
// Patchloop attachment referring to it (or, for an index, to its
// platform manifests), and that the required kinds are attached. Network
// and registry errors are returned as errors; verification failures are
// in the result.
func Verify(ctx context.Context, image string, opts VerifyOptions) (*Verification, error) {
	if opts.Client == nil || len(opts.Verifiers) == 0 {
		return nil, errors.New("verify: no registry client or no trusted key")
	}
	for _, k := range opts.Require {
		if !slices.Contains(AllKinds, k) {
			return nil, fmt.Errorf("verify: unknown attachment kind %q (want one of %v)", k, AllKinds)
		}
	}
	client := opts.Client
	ref, err := client.ParseReference(image)
	if err != nil {
		return nil, err
	}
	desc, err := client.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	repo := ref.Context()
	top := sign.Target{Repo: repo, Descriptor: v1.Descriptor{MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest}, Options: client.Options(ctx)}
	out := &Verification{Image: image, Digest: desc.Digest.String()}
	check := func(c Check, t sign.Target) error {
		err := sign.VerifyAny(ctx, opts.Verifiers, t)
		if err != nil && !errors.Is(err, sign.ErrNotSigned) && !errors.Is(err, sign.ErrBadSignature) {
			return err
		}
		c.OK = err == nil
		if err != nil {
			c.Error = err.Error()
		}
		out.Checks = append(out.Checks, c)
		return nil
	}
	if err := check(Check{What: "image", Digest: top.Descriptor.Digest.String()}, top); err != nil {
		return nil, err
	}
	subjects := []sign.Target{top}
	platforms := map[v1.Hash]string{}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, m := range im.Manifests {
			if !m.MediaType.IsImage() {
				continue
			}
			t := sign.Target{Repo: repo, Descriptor: v1.Descriptor{MediaType: m.MediaType, Size: m.Size, Digest: m.Digest}, Options: top.Options}
			subjects = append(subjects, t)
			if m.Platform != nil {
				platforms[m.Digest] = m.Platform.String()
			}
		}
	}
	found := map[string]bool{}
	for i, s := range subjects {
		refs, err := sign.Referrers(ctx, s, "")
		if err != nil {
			return nil, err
		}
		ours := false
		for _, r := range refs {
			if KindOf(r) == "" {
				continue
			}
			// The list is the registry's word: the kind, platform and
			// subject are read from the attachment's manifest (which its
			// signature covers).
			ours = true
			c := Check{What: KindOf(r), Digest: r.Digest.String(), Subject: s.Descriptor.Digest.String()}
			m, err := sign.ReadReferrer(ctx, s, r.Digest)
			if errors.Is(err, sign.ErrOtherSubject) {
				c.Error = err.Error()
				out.Checks = append(out.Checks, c)
				continue
			}
			if err != nil {
				return nil, err
			}
			r.ArtifactType, r.Annotations = m.ArtifactType, m.Annotations
			kind := KindOf(r)
			if kind == "" {
				c.Error = "the list names it a Patchloop attachment, its manifest does not"
				out.Checks = append(out.Checks, c)
				continue
			}
			c.What, c.Platform = kind, r.Annotations[AnnotationPlatform]
			at := sign.Target{Repo: repo, Descriptor: r, Options: top.Options}
			if err := check(c, at); err != nil {
				return nil, err
			}
			if c := out.Checks[len(out.Checks)-1]; c.OK {
				found[kind] = true
			}
		}
		// A patched platform of an index (one with attachments) must be
		// signed too.
		if i > 0 && ours {
			if err := check(Check{What: "platform", Digest: s.Descriptor.Digest.String(), Platform: platforms[s.Descriptor.Digest]}, s); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range opts.Require {
		if !found[k] {
			out.Missing = append(out.Missing, k)
		}
	}
	out.OK = len(out.Missing) == 0
	for _, c := range out.Checks {
		out.OK = out.OK && c.OK
	}
	return out, nil
}
