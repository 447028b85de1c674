package apt

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/patchloop/patchloop/internal/httpcache"
	"github.com/patchloop/patchloop/internal/logctx"
)

// suiteURL is the directory of a suite's Release files and indexes.
func suiteURL(src Source) string {
	return strings.TrimSuffix(src.URI, "/") + "/dists/" + src.Suite
}

// FetchRelease fetches the suite's InRelease, or Release and Release.gpg
// when the repository has no InRelease, verifies the signature with the
// source's keyring (or the client's), checks Valid-Until unless the source
// disables it, and parses it.
func (c *Client) FetchRelease(ctx context.Context, src Source) (*Release, error) {
	dir := suiteURL(src)
	if strings.HasSuffix(src.Suite, "/") {
		return nil, fmt.Errorf("%s %s: flat repositories are not supported", src.URI, src.Suite)
	}
	kr := src.Keyring
	if kr == nil {
		kr = c.keyring
	}
	if kr == nil {
		return nil, fmt.Errorf("%s: no keyring to verify it with", dir)
	}
	now := c.now()
	text, where, err := c.fetchSignedRelease(ctx, dir, kr, now)
	if err != nil {
		return nil, err
	}
	rel, err := ParseRelease(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if !src.IgnoreValidUntil {
		if err := rel.CheckFresh(now); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	if src.Suite != rel.Suite && src.Suite != rel.Codename {
		logctx.From(ctx, c.log).WarnContext(ctx, "apt: release names another suite", "url", where, "suite", rel.Suite, "codename", rel.Codename)
	}
	return rel, nil
}

// fetchSignedRelease returns the verified Release text and the URL it
// came from.
func (c *Client) fetchSignedRelease(ctx context.Context, dir string, kr *Keyring, now time.Time) ([]byte, string, error) {
	inRelease := dir + "/InRelease"
	data, err := c.getRevalidated(ctx, inRelease)
	if err == nil {
		text, err := VerifyInRelease(data, kr, now)
		if err != nil {
			return nil, "", fmt.Errorf("verifying %s: %w", inRelease, err)
		}
		return text, inRelease, nil
	}
	if !httpcache.IsNotFound(err) {
		return nil, "", err
	}
	release := dir + "/Release"
	data, err = c.getRevalidated(ctx, release)
	if err != nil {
		return nil, "", err
	}
	sig, err := c.getRevalidated(ctx, release+".gpg")
	if httpcache.IsNotFound(err) {
		return nil, "", fmt.Errorf("verifying %s: %w: no InRelease and no Release.gpg", release, ErrNoSignature)
	}
	if err != nil {
		return nil, "", err
	}
	if err := VerifyDetached(data, sig, kr, now); err != nil {
		return nil, "", fmt.Errorf("verifying %s: %w", release, err)
	}
	return data, release, nil
}
