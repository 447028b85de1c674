package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/registry/embedded"
)

func newRegistryCommand(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run the embedded OCI registry",
	}
	cmd.AddCommand(newRegistryServeCommand(s))
	return cmd
}

func newRegistryServeCommand(s *streams) *cobra.Command {
	var addr, root, htpasswd string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve an OCI registry (the CNCF reference registry) until interrupted",
		Long: `Serve runs the CNCF distribution registry in-process with filesystem storage
and deletes enabled. It needs nothing else installed, which makes it the
easiest registry to try Patchloop against.

Without --htpasswd anyone who reaches --addr may pull, push and delete: keep
it on loopback or a trusted network. With --htpasswd FILE (bcrypt entries,
as htpasswd -B writes them) every request needs the basic credentials of
one of its users; clients log in with --username and --password-stdin or
docker login. Put it behind TLS when credentials cross a network.`,
		Example: `  # A registry on localhost:5000 storing its content in ./registry-data
  patchloop registry serve --addr 127.0.0.1:5000 --root ./registry-data

  # The same with a login
  htpasswd -Bbn alice "$PASSWORD" > registry.htpasswd
  patchloop registry serve --root ./registry-data --htpasswd registry.htpasswd`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if root == "" {
				return usagef("--root is required: the directory the registry stores its content in")
			}
			ctx := cmd.Context()
			srv, err := embedded.Start(ctx, addr, embedded.Options{Root: root, Htpasswd: htpasswd})
			if err != nil {
				return err
			}
			auth := "no authentication: loopback or a trusted network only"
			if htpasswd != "" {
				auth = "users of " + htpasswd
			}
			fmt.Fprintf(s.err, "Registry listening on http://%s (content in %s; %s); press Ctrl-C to stop\n", srv.Addr, root, auth)
			<-ctx.Done()
			return srv.Close()
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:5000", "address to listen on")
	cmd.Flags().StringVar(&root, "root", "", "directory for the registry's content (required)")
	cmd.Flags().StringVar(&htpasswd, "htpasswd", "", "require the users of this htpasswd file (bcrypt entries); without it the registry is unauthenticated")
	return cmd
}
