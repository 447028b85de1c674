package cli

import (
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/publish"
)

// verifyFlags are the flags of `patchloop verify`.
type verifyFlags struct {
	cosignKeys    []string
	notationCerts []string
	require       []string
	output        string
	reg           registryFlags
}

// newVerifyCommand builds `patchloop verify`.
func newVerifyCommand(s *streams) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify IMAGE",
		Short: "Check a patched image's signatures and signed attachments",
		Long: `Verify checks what patch and serve write next to a patched image
(docs/signing.md): a signature of the image by a trusted key (a cosign
sigstore bundle referrer or a signature in its sha256-<hex>.sig tag, or a
Notary Project signature), a signature of each platform manifest that has
attachments, and a signature of every attachment (OpenVEX, SPDX and
CycloneDX SBOMs, scan reports before and after). --require names the
attachment kinds that must be present (default: all of them; none for
the signature alone).

It exits 0 when everything verifies, 1 when anything is missing or wrong
(each check is printed), 2 on bad flags.`,
		Example: `  # With the public key of the cosign key given to patch or serve
  patchloop verify localhost:5000/app:1.0-1 --cosign-key cosign.pub

  # Notary Project signatures chaining to a root certificate, JSON output
  patchloop verify localhost:5000/app:1.0-1 --notation-cert root.pem -o json

  # The signature and the OpenVEX document only
  patchloop verify localhost:5000/app:1.0-1 --cosign-key cosign.pub --require vex`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, s, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.cosignKeys, "cosign-key", nil, "trusted cosign public key (PEM, as cosign.pub; repeatable)")
	fl.StringArrayVar(&f.notationCerts, "notation-cert", nil, "trusted root certificate of Notary Project signatures (PEM; repeatable)")
	fl.StringSliceVar(&f.require, "require", publish.AllKinds, "attachment kinds that must be present: vex, spdx, cyclonedx, report-before, report-after, or none")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	f.reg.register(cmd)
	return cmd
}

// runVerify runs `patchloop verify`.
func runVerify(cmd *cobra.Command, s *streams, f *verifyFlags, arg string) error {
	format, err := parseOutput(f.output)
	if err != nil {
		return err
	}
	if len(f.cosignKeys) == 0 && len(f.notationCerts) == 0 {
		return usagef("verify needs a trusted key: --cosign-key PUB.pem or --notation-cert ROOT.pem")
	}
	require := f.require
	if slices.Equal(require, []string{"none"}) {
		require = nil
	}
	for _, k := range require {
		if !slices.Contains(publish.AllKinds, k) {
			return usagef("--require %q: want some of %v, or none", k, publish.AllKinds)
		}
	}
	verifiers, err := loadVerifiers(f.cosignKeys, f.notationCerts, "--cosign-key", "--notation-cert")
	if err != nil {
		return err
	}
	client, err := f.reg.client(s, imageHost(arg))
	if err != nil {
		return err
	}
	v, err := publish.Verify(cmd.Context(), arg, publish.VerifyOptions{Client: client, Verifiers: verifiers, Require: require})
	if err != nil {
		return err
	}
	if format == outputJSON {
		if err := writeJSON(s.out, v); err != nil {
			return err
		}
	} else {
		writeVerifyText(s.out, v)
	}
	if !v.OK {
		return exitCodeError{code: ExitError, err: v.Err()}
	}
	return nil
}

// writeVerifyText prints one line per check.
func writeVerifyText(w io.Writer, v *publish.Verification) {
	for _, c := range v.Checks {
		mark := "OK  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %-13s %s%s\n", mark, c.What, c.Digest, inParens(c.Platform))
		if c.Error != "" {
			fmt.Fprintf(w, "     %s\n", c.Error)
		}
	}
	for _, k := range v.Missing {
		fmt.Fprintf(w, "MISSING %s\n", k)
	}
	if v.OK {
		fmt.Fprintf(w, "Verified %s@%s\n", v.Image, v.Digest)
	}
}
