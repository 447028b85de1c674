// Command patchloop keeps the images in an OCI registry free of fixable
// OS-package vulnerabilities: it scans them, patches them in place with
// fixed distro packages and publishes the result under patch tags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/patchloop/patchloop/internal/cli"

	// The patchers, one per package manager; each registers the OS
	// families it handles.
	_ "github.com/patchloop/patchloop/internal/patch/apk"
	_ "github.com/patchloop/patchloop/internal/patch/apt"
	_ "github.com/patchloop/patchloop/internal/patch/rpm"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
