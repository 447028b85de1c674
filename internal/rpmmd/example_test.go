package rpmmd_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmmd"
)

// Example reads an image's repository files (their content resolved
// inside the image, never on the host) as dnf would.
func Example() {
	files := map[string][]byte{
		"etc/yum.repos.d/rocky.repo": []byte("[baseos]\nbaseurl=https://dl.rockylinux.org/pub/rocky/$releasever/BaseOS/$basearch/os/\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9\n"),
	}
	// $releasever from the installed release package's provides.
	releasever, _ := rpmmd.DetectReleasever([]rpmmd.ReleasePackage{{Name: "rocky-release", Version: "9.3",
		Provides: []rpm.Dep{{Name: "system-release(releasever)", Flags: rpm.SenseEqual, Version: "9"}}}})
	repos, _, err := rpmmd.ImageRepos(files, "x86_64", releasever)
	if err != nil {
		fmt.Println(err)
		return
	}
	keyPaths, _, _ := repos[0].KeyFiles()
	fmt.Println(repos[0].ID, repos[0].BaseURLs[0], keyPaths, repos[0].GPGCheck)
	// Output: baseos https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/ [etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9] true
}

// installFirst is the rest of the path, which needs a reachable
// repository: load it, download its first package and stream the
// package's verified files, as the rpm patcher does for each package.
func installFirst(ctx context.Context, c *rpmmd.Client, repo rpmmd.Repo, kr *rpm.Keyring) error {
	md, err := c.Load(ctx, repo, kr) // repomd (signature), primary (checksum)
	if err != nil {
		return err
	}
	path, err := c.Fetch(ctx, md, md.Packages[0]) // checksum and size while streaming
	if err != nil {
		return err
	}
	opts := rpm.VerifyOptions{Keyring: kr, RequireSignature: repo.GPGCheck, NoSignature: !repo.GPGCheck}
	pkg, f, err := rpm.OpenFile(path, opts) // header digests, signature, payload digest
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := pkg.Payload(opts)
	if err != nil {
		return err
	}
	defer a.Close()
	for {
		e, err := a.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		_, _ = e.Path, e.File.Mode // write the entry (a reads its content) into the layer
	}
}
