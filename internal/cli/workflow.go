package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/discover"
	"github.com/patchloop/patchloop/internal/schedule"
	"github.com/patchloop/patchloop/internal/workflow"
)

// workflowTypeV1 is the only workflow type, as in the reference.
const workflowTypeV1 = "continuouspatchv1"

// workflowFlags are the flags every workflow command shares.
type workflowFlags struct {
	registry string
	typ      string
	reg      registryFlags
}

func (f *workflowFlags) register(cmd *cobra.Command) {
	f.registerTarget(cmd)
	f.reg.register(cmd)
}

// registerTarget registers -r and -t only, for the commands that leave
// registry access to the service.
func (f *workflowFlags) registerTarget(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.registry, "registry", "r", "", "registry host, for example localhost:5000 (required)")
	cmd.Flags().StringVarP(&f.typ, "type", "t", workflowTypeV1, "workflow type; only continuouspatchv1 exists")
}

// checkOutput is check followed by parsing the -o flag's value.
func (f *workflowFlags) checkOutput(output string) (string, outputFormat, error) {
	host, err := f.check()
	if err != nil {
		return "", "", err
	}
	format, err := parseOutput(output)
	if err != nil {
		return "", "", err
	}
	return host, format, nil
}

func (f *workflowFlags) check() (string, error) {
	if f.typ != workflowTypeV1 {
		return "", usagef("--type %q: the only workflow type is %s", f.typ, workflowTypeV1)
	}
	return registryHost(f.registry)
}

func newWorkflowCommand(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workflow",
		Short: "Manage continuous patching workflows",
	}
	cmd.AddCommand(
		newWorkflowCreateCommand(s),
		newWorkflowUpdateCommand(s),
		newWorkflowShowCommand(s),
		newWorkflowDeleteCommand(s),
		newWorkflowListCommand(s),
		newWorkflowCancelRunCommand(s),
	)
	return cmd
}

func newWorkflowCreateCommand(s *streams) *cobra.Command {
	var (
		wf         workflowFlags
		configPath string
		sched      string
		dryRun     bool
		runNow     bool
		parallel   int
		maxImages  int
		output     string
		svc        serviceFlags
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a continuous patching workflow (use --dry-run to preview)",
		Long: `Create validates a workflow config and a schedule. With --dry-run it lists the
images the workflow would patch, one "repository: tag" line each, without
changing anything: disabled repositories are left out, and repositories or
tags that do not exist are reported as warnings on stderr.

Without --dry-run the Patchloop service stores the workflow, pushes its config
to csscpolicies/patchpolicy in the registry and schedules it: the first cycle
runs one schedule interval from now, or right away with --run-immediately.
A registry has at most one workflow of a type; change it with
patchloop workflow update.` + serviceHelp,
		Example: `  # Preview what a workflow would patch every day
  patchloop workflow create -r localhost:5000 -t continuouspatchv1 \
      --config ./continuouspatching.json --schedule 1d --dry-run

  # The same as JSON, with digests, latest and next patch tags
  patchloop workflow create -r localhost:5000 --config ./continuouspatching.json \
      --schedule 1d --dry-run -o json

  # Create it for real and run the first cycle now
  patchloop workflow create -r localhost:5000 -t continuouspatchv1 \
      --config ./continuouspatching.json --schedule 1d --run-immediately`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, format, err := wf.checkOutput(output)
			if err != nil {
				return err
			}
			if dryRun && runNow {
				return usagef("--dry-run and --run-immediately cannot be used together: a dry run changes nothing and runs nothing")
			}
			if configPath == "" {
				return usagef("--config is required: the workflow config file (JSON, version v1)")
			}
			if sched == "" {
				return usagef("--schedule is required: how often the workflow runs, 1d to 30d")
			}
			if _, err := schedule.Parse(sched); err != nil {
				return usagef("--schedule: %v", err)
			}
			cfg, err := loadConfig(configPath)
			if err != nil {
				return err
			}
			if !dryRun {
				if wf.reg.username != "" || wf.reg.passwordStdin || wf.reg.insecure {
					return usagef("--username, --password-stdin and --insecure apply to --dry-run only: the service reaches the registry with the credentials it was started with (patchloop serve)")
				}
				return createOnService(cmd.Context(), s, &svc, format, workflow.CreateRequest{
					Registry: host, Type: wf.typ, ConfigName: configPath, Schedule: sched, RunImmediately: runNow,
				})
			}
			client, err := wf.reg.client(s, host)
			if err != nil {
				return err
			}
			if maxImages < 1 {
				return usagef("--max-images %d: must be at least 1", maxImages)
			}
			res, err := discover.Targets(cmd.Context(), client, host, cfg, discover.Options{
				Parallel:  parallel,
				Digests:   format == outputJSON,
				MaxImages: maxImages,
			})
			if errors.Is(err, discover.ErrTooManyImages) {
				return usageError{err} // the text create, update and a cycle print
			}
			if err != nil {
				return fmt.Errorf("dry run against %s: %w", host, err)
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(s.err, "Warning: %s\n", w)
			}
			if format == outputJSON {
				if res.Targets == nil {
					res.Targets = []discover.Target{}
				}
				return writeJSON(s.out, res.Targets)
			}
			for _, t := range res.Targets {
				fmt.Fprintf(s.out, "%s: %s\n", t.Repository, t.Tag)
			}
			if len(res.Targets) == 0 {
				fmt.Fprintf(s.err, "No images in %s match the config.\n", host)
			}
			return nil
		},
	}
	wf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&configPath, "config", "", "workflow config file (required)")
	fl.StringVar(&sched, "schedule", "", "how often the workflow runs: 1d to 30d (required)")
	fl.BoolVar(&dryRun, "dry-run", false, "list the images the workflow would patch and change nothing")
	fl.BoolVar(&runNow, "run-immediately", false, "run the first cycle now instead of one schedule interval from now")
	fl.IntVar(&parallel, "parallel", 16, "how many repositories to list at once")
	fl.IntVar(&maxImages, "max-images", workflow.DefaultMaxImages, "with --dry-run: the service's limit (serve --max-images); a config selecting more images fails as its cycles would")
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	svc.register(cmd)
	return cmd
}
