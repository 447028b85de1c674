package cli

import (
	"bufio"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/registry"
)

// registryFlags are the credentials and transport flags every command that
// talks to a registry takes.
type registryFlags struct {
	username      string
	passwordStdin bool
	insecure      bool
}

func (f *registryFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.username, "username", "", "registry user name (default: credentials from the Docker config and its credential helpers)")
	fl.BoolVar(&f.passwordStdin, "password-stdin", false, "read the registry password or token from standard input")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP and unverified TLS (loopback registries always use HTTP)")
}

// client builds a registry client for host from the flags.
func (f *registryFlags) client(s *streams, host string, extra ...registry.Option) (*registry.Client, error) {
	// Progress of layer reads, downloads and pushes (serve's own wrapper,
	// in extra, replaces it: a service draws no progress lines).
	opts := append([]registry.Option{registry.WithInsecure(f.insecure), registry.WithTransportWrapper(s.progress().Transport)}, extra...)
	switch {
	case f.passwordStdin && f.username == "":
		return nil, usagef("--password-stdin needs --username")
	case f.username != "" && !f.passwordStdin:
		return nil, usagef("--username needs --password-stdin (the password is never taken from the command line)")
	case f.username != "":
		pw, err := bufio.NewReader(s.in).ReadString('\n')
		pw = strings.TrimRight(pw, "\r\n")
		if pw == "" {
			if err != nil {
				return nil, usagef("--password-stdin: no password on standard input: %v", err)
			}
			return nil, usagef("--password-stdin: the password on standard input is empty")
		}
		opts = append(opts, registry.WithKeychain(registry.StaticKeychain(host, f.username, pw, authn.DefaultKeychain)))
	}
	return registry.New(opts...), nil
}

// registryHost checks the -r value: a registry host, optionally with a port.
func registryHost(r string) (string, error) {
	if r == "" {
		return "", usagef("--registry (-r) is required: the registry host, for example localhost:5000 or myregistry.azurecr.io")
	}
	if strings.Contains(r, "://") || strings.Contains(r, "/") {
		return "", usagef("--registry %q: give the registry host only, for example localhost:5000 (no scheme, no repository)", r)
	}
	if _, err := registry.New().Registry(r); err != nil {
		return "", usagef("--registry: %v", err)
	}
	return r, nil
}
