package cli

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/localimage"
)

func newImageCommand(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Put images into a registry without Docker or crane",
	}
	cmd.AddCommand(newImagePushCommand(s))
	return cmd
}

func newImagePushCommand(s *streams) *cobra.Command {
	var (
		ref string
		reg registryFlags
	)
	cmd := &cobra.Command{
		Use:   "push SOURCE DEST",
		Short: "Push an image from an OCI layout directory or a docker save tarball to a registry",
		Long: `Push reads the image (or multi-platform index) at SOURCE and pushes it to the
registry reference DEST (host/repository:tag), with no Docker daemon and no
network besides DEST's registry. SOURCE is

  - an OCI image layout directory (crane pull --format oci, skopeo copy
    oci:DIR, oras copy --to-oci-layout, or a docker save tarball of Docker 25
    or later, extracted); --ref picks one of several entries by its
    org.opencontainers.image.ref.name annotation or its digest;
  - a tarball in the docker save format (docker save, crane pull, podman
    save --format docker-archive); --ref picks one of its tags.

Every manifest, config and layer is checked against the digest that names
it before anything is pushed, and the digest the registry then serves under
DEST must be the one read: a mismatch is an error, never a push of other
content. Prints DEST@digest.`,
		Example: `  # An image saved on a machine with internet access...
  crane pull --format oci debian:bookworm debian-layout     # or: docker save -o debian.tar debian:bookworm
  # ...pushed into the embedded registry of patchloop serve --embedded-registry 127.0.0.1:5000
  patchloop image push debian-layout localhost:5000/debian:bookworm
  patchloop image push debian.tar localhost:5000/debian:bookworm

  # One image of a layout holding several
  patchloop image push images/ --ref bookworm localhost:5000/debian:bookworm`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, dest := args[0], args[1]
			r, err := name.ParseReference(dest)
			if err != nil {
				return usagef("DEST %q: want a registry reference such as localhost:5000/debian:bookworm: %v", dest, err)
			}
			client, err := reg.client(s, r.Context().RegistryStr())
			if err != nil {
				return err
			}
			if r, err = client.ParseReference(dest); err != nil {
				return usagef("DEST %q: %v", dest, err)
			}
			ctx := cmd.Context()
			img, err := localimage.Open(ctx, src, ref)
			if err != nil {
				return err
			}
			if err := client.Push(ctx, r, img.Taggable); err != nil {
				return err
			}
			served, err := client.Resolve(ctx, r)
			if err != nil {
				return fmt.Errorf("check the pushed image: %w", err)
			}
			if served.Digest != img.Digest {
				return fmt.Errorf("%w: %s serves %s after the push, but %s is %s", localimage.ErrDigestMismatch, r, served.Digest, src, img.Digest)
			}
			out := r.String()
			if _, ok := r.(name.Tag); ok {
				out += "@" + img.Digest.String()
			}
			fmt.Fprintln(s.out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&ref, "ref", "", "the image to push from a SOURCE holding several: a layout entry's ref.name annotation or digest, or a tarball's tag")
	reg.register(cmd)
	return cmd
}
