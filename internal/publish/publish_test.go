package publish_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/publish"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// pushIndex pushes an index of two random images under host/repo:tag and
// returns its digest and the images' digests.
func pushIndex(t *testing.T, host, repo, tag string) (v1.Hash, []v1.Hash) {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	var children []v1.Hash
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		children = append(children, d)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	ref, _ := name.ParseReference(host + "/" + repo + ":" + tag)
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return d, children
}

// report is a scan report of one package.
func report(version string) *scan.Report {
	return &scan.Report{SchemaVersion: 2, ArtifactName: "app", ArtifactType: "container_image",
		Metadata: scan.Metadata{OS: &scan.OS{Family: "debian", Name: "12"}},
		Packages: []scan.Package{{ID: "hello@" + version, Name: "hello", Version: version, SrcName: "hello", SrcVersion: version}}}
}

// TestPublishIndex publishes a patched multi-platform image where one
// platform was patched: the index and that platform are signed, the VEX
// document refers to the index and the reports and SBOMs to the platform;
// Verify accepts it all, and refuses an unsigned attachment added later.
func TestPublishIndex(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t)
	client := registry.New()
	origDigest, orig := pushIndex(t, host, "app", "1.0")
	newDigest, patched := pushIndex(t, host, "app", "1.0-1")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := sign.NewCosignSigner(key)
	verifier, _ := sign.NewCosignVerifier(key.Public())
	// The original has a referrer of its own: listed, not copied.
	origRepo, _ := name.NewRepository(host + "/app")
	origTarget, err := publish.Target(ctx, client, origRepo, origDigest.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.Sign(ctx, origTarget); err != nil {
		t.Fatal(err)
	}

	res := &patch.Result{
		Image: host + "/app:1.0", Reference: host + "/app:1.0-1", Tag: "1.0-1", Digest: newDigest.String(),
		Fixed: []string{"CVE-2024-0001"},
		Platforms: []patch.PlatformResult{
			{Platform: "linux/amd64", Family: "debian", Original: orig[0].String(), Digest: patched[0].String(),
				Outcome: &patch.Outcome{Updates: []patch.Update{{Name: "hello", From: "1.0-1", To: "1.0-2", Vulnerabilities: []string{"CVE-2024-0001"}}}}},
			{Platform: "linux/arm64", Original: orig[1].String(), Skipped: "nothing to fix"},
		},
	}
	scanned := 0
	pub, err := publish.Run(ctx, res, publish.Options{
		Client:  client,
		Signers: []sign.Signer{signer},
		Attach:  true,
		Before: func(d string) *scan.Report {
			if d == orig[0].String() {
				return report("1.0-1")
			}
			return nil
		},
		Scan: func(_ context.Context, img v1.Image, _ string) (*scan.Report, error) {
			if d, _ := img.Digest(); d != patched[0] {
				t.Errorf("scanned %s, want the patched platform %s", d, patched[0])
			}
			scanned++
			return report("1.0-2"), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned != 1 || len(pub.Attachments) != 5 || len(pub.OriginalReferrers) == 0 {
		t.Fatalf("published %+v (scanned %d)", pub, scanned)
	}
	for _, a := range pub.Attachments {
		want := patched[0].String()
		if a.Kind == publish.KindVEX {
			want = newDigest.String()
		}
		if a.Subject != want {
			t.Errorf("%s attached to %s, want %s", a.Kind, a.Subject, want)
		}
	}
	v, err := publish.Verify(ctx, res.Reference, publish.VerifyOptions{Client: client, Verifiers: []sign.Verifier{verifier}, Require: publish.AllKinds})
	if err != nil {
		t.Fatal(err)
	}
	// image, platform, 5 attachments.
	if !v.OK || len(v.Checks) != 7 {
		t.Fatalf("verify: %+v", v)
	}

	// An unsigned VEX document added to the platform fails verification.
	repo, _ := name.NewRepository(host + "/app")
	pt, err := publish.Target(ctx, client, repo, patched[0].String())
	if err != nil {
		t.Fatal(err)
	}
	forged := sign.Artifact{ArtifactType: publish.ArtifactTypeOpenVEX, Blobs: []sign.Blob{{MediaType: publish.ArtifactTypeOpenVEX, Data: []byte(`{"statements":[]}`)}},
		Subject: &pt.Descriptor}
	if _, err := forged.Push(ctx, pt); err != nil {
		t.Fatal(err)
	}
	v, err = publish.Verify(ctx, res.Reference, publish.VerifyOptions{Client: client, Verifiers: []sign.Verifier{verifier}})
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || v.Err() == nil || !strings.Contains(v.Err().Error(), "vex") {
		t.Fatalf("unsigned attachment accepted: %+v", v)
	}
	if _, err := publish.Verify(ctx, res.Reference, publish.VerifyOptions{Client: client, Verifiers: []sign.Verifier{verifier}, Require: []string{"sbom"}}); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
