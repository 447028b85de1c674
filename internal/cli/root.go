// Package cli implements the patchloop command line: commands, flags and
// their text and JSON output. It wires the capability packages together and
// holds no domain logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/progress"

	"github.com/patchloop/patchloop/internal/redact"
)

// Exit codes shared by every command.
const (
	ExitOK    = 0 // success
	ExitError = 1 // the command failed
	ExitUsage = 2 // bad flags, arguments or input files
)

// usageError marks an error caused by what the user typed, so Execute can
// exit with ExitUsage instead of ExitError.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns an error that makes the command exit with ExitUsage.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCodeError carries an explicit exit code (for example scan --exit-code).
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}
func (e exitCodeError) Unwrap() error { return e.err }

// streams are the standard input and outputs of one invocation.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// quiet (-q) turns progress lines off; verbose (-v) logs the
	// info-level story of the work (what a run log holds) to err.
	quiet, verbose bool
}

// stderrIsTerminal reports whether w is a terminal; tests replace it.
var stderrIsTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressMin is the smallest transfer shown; tests lower it.
var progressMin int64 = 64 << 10

// progress returns the progress line writer of the command: on stderr
// when it is a terminal and -q was not given, else silent.
func (s *streams) progress() *progress.Writer {
	p := progress.New(s.err, !s.quiet && stderrIsTerminal(s.err))
	p.Min = progressMin
	return p
}

// NewRootCommand builds the patchloop command tree writing to the given streams.
func NewRootCommand(in io.Reader, out, errw io.Writer) *cobra.Command {
	s := &streams{in: in, out: out, err: errw}
	root := &cobra.Command{
		Use:   "patchloop",
		Short: "Continuous patching of OS-package vulnerabilities in container images",
		Long: `Patchloop keeps the images in an OCI registry free of fixable OS-package
vulnerabilities without rebuilding them: on a schedule it finds the images a
workflow config names, scans each one and publishes a patched image under an
incremental (-1 … -999) or floating (-patched) tag.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	setVersionFlag(root)
	root.PersistentFlags().BoolVarP(&s.quiet, "quiet", "q", false, "no progress lines on the terminal")
	root.PersistentFlags().BoolVarP(&s.verbose, "verbose", "v", false, "log what the work does (sources, packages chosen and why, downloads, pushes) to stderr")
	// The libraries log through the command's context (logctx).
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		cmd.SetContext(logctx.With(cmd.Context(), stderrLogger(s)))
	}
	root.SetFlagErrorFunc(explainFlagError)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errw)
	// Commands are added here, one line each.
	root.AddCommand(
		newConfigCommand(s),
		newRegistryCommand(s),
		newWorkflowCommand(s),
		newScanCommand(s),
		newDBCommand(s),
		newPatchCommand(s),
		newVerifyCommand(s),
		newServeCommand(s),
		newTaskCommand(s),
		newVersionCommand(s),
		newImageCommand(s),
		// add-commands-here
	)
	return root
}

// Execute runs the command line and returns the process exit code.
func Execute(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) int {
	root := NewRootCommand(in, out, errw)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		if ec.err != nil {
			fmt.Fprintln(errw, "Error:", redact.String(ec.err.Error()))
		}
		return ec.code
	}
	fmt.Fprintln(errw, "Error:", redact.String(err.Error()))
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitError
}

// explainFlagError turns cobra's flag errors into usage errors, and answers
// the -g/--resource-group flag that scripts written for the reference (az
// acr supply-chain workflow) pass to every command with what to do.
func explainFlagError(_ *cobra.Command, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "unknown shorthand flag: 'g'") || strings.Contains(msg, "unknown flag: --resource-group") {
		return usagef("-g/--resource-group: Patchloop has no resource groups (a workflow belongs to the registry -r names, in any OCI registry); drop -g/--resource-group from the command")
	}
	return usageError{err}
}

// isCobraUsage reports whether err comes from cobra's own flag or argument
// checks.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown command", "unknown shorthand", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
