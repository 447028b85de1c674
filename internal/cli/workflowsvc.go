package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/schedule"
	"github.com/patchloop/patchloop/internal/workflow"
)

// serviceFlags locate the Patchloop service a command calls: its address
// comes from PATCHLOOP_SERVER, its token from PATCHLOOP_TOKEN or the data
// directory's token file.
type serviceFlags struct {
	dataDir string
}

func (f *serviceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", defaultDataDir,
		"the service's data directory, where its API token is (unless PATCHLOOP_TOKEN is set)")
}

// service returns a client of the Patchloop service.
func (f *serviceFlags) service() (workflow.Service, error) {
	return client.FromEnv(f.dataDir)
}

// serviceHelp ends the Long text of every command that calls the service.
const serviceHelp = `

The command calls the Patchloop service (patchloop serve) at $PATCHLOOP_SERVER
(default http://127.0.0.1:8080) with the API token in $PATCHLOOP_TOKEN or,
when that is unset, in <--data-dir>/token.`

// explain turns a service error into what the user should read: bad input
// exits with ExitUsage and keeps the service's file:line:col message;
// missing or existing workflows say which command to run instead.
func explain(err error, host, typ string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, workflow.ErrInvalidInput), errors.Is(err, workflow.ErrTooManyImages):
		return usageError{err}
	case errors.Is(err, workflow.ErrExists):
		return fmt.Errorf("a %s workflow already exists in registry %s: use `patchloop workflow update` to change its config or schedule", typ, host)
	case errors.Is(err, workflow.ErrNotFound):
		return fmt.Errorf("registry %s has no %s workflow: create one with `patchloop workflow create`", host, typ)
	}
	return err
}

// whoAmI names the person behind a change, user@host, for created-by and
// modified-by.
func whoAmI() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		return name + "@" + host
	}
	return name
}

// utcTime formats a time as the workflow commands print it, for example
// 2024-09-14 21:05:58 UTC.
func utcTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// readConfig returns a config file's bytes as the user wrote them; the
// service validates and normalizes them itself.
func readConfig(path string) ([]byte, error) {
	if _, err := loadConfig(path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--config: %v", err)
	}
	return data, nil
}

// createOnService creates a workflow from the config file req.ConfigName
// names (validated already) and prints when it runs next.
func createOnService(ctx context.Context, s *streams, f *serviceFlags, format outputFormat, req workflow.CreateRequest) error {
	data, err := os.ReadFile(req.ConfigName)
	if err != nil {
		return usagef("--config: %v", err)
	}
	req.Config, req.By = data, whoAmI()
	svc, err := f.service()
	if err != nil {
		return err
	}
	wf, err := svc.Create(ctx, req)
	if err != nil {
		return explain(err, req.Registry, req.Type)
	}
	return printScheduled(s, format, wf, req.RunImmediately)
}

// printScheduled reports a created or updated workflow, as the reference
// does. When a cycle runs now (runNow), the next scheduled run is one
// interval after it, and that is the time printed.
func printScheduled(s *streams, format outputFormat, wf *workflow.Workflow, runNow bool) error {
	if format == outputJSON {
		return writeJSON(s.out, wf)
	}
	next := wf.NextRunAt
	if runNow {
		if sched, err := schedule.Parse(wf.ScheduleText); err == nil {
			next = next.Add(sched.Interval())
		}
		fmt.Fprintln(s.out, "Continuous Patching workflow queued to run now.")
	}
	_, err := fmt.Fprintf(s.out, "Continuous Patching workflow scheduled to run next at: %s\n", utcTime(next))
	return err
}

func newWorkflowUpdateCommand(s *streams) *cobra.Command {
	var (
		wf         workflowFlags
		svc        serviceFlags
		configPath string
		sched      string
		runNow     bool
		output     string
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Change a workflow's config or schedule",
		Long: `Update replaces a workflow's config, its schedule, or both. A new schedule
counts its cycles from now; with --run-immediately a cycle also starts right
away, and --run-immediately alone runs the workflow now without changing it
(its schedule then counts from now). Preview a new config with workflow
create --dry-run first.` + serviceHelp,
		Example: `  # Run every 7 days from now on
  patchloop workflow update -r localhost:5000 -t continuouspatchv1 --schedule 7d

  # Run the workflow now; the next scheduled run is one interval later
  patchloop workflow update -r localhost:5000 -t continuouspatchv1 --run-immediately

  # A new config, applied at once
  patchloop workflow update -r localhost:5000 -t continuouspatchv1 \
      --config ./continuouspatching.json --run-immediately`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, format, err := wf.checkOutput(output)
			if err != nil {
				return err
			}
			if configPath == "" && sched == "" && !runNow {
				return usagef("give --config, --schedule or both: what to change (or --run-immediately to run the workflow now)")
			}
			req := workflow.UpdateRequest{Registry: host, Type: wf.typ, Schedule: sched, RunImmediately: runNow, By: whoAmI()}
			if sched != "" {
				if _, err := schedule.Parse(sched); err != nil {
					return usagef("--schedule: %v", err)
				}
			}
			if configPath != "" {
				if req.Config, err = readConfig(configPath); err != nil {
					return err
				}
				req.ConfigName = configPath
			}
			api, err := svc.service()
			if err != nil {
				return err
			}
			updated, err := api.Update(cmd.Context(), req)
			if err != nil {
				return explain(err, host, wf.typ)
			}
			return printScheduled(s, format, updated, runNow)
		},
	}
	wf.registerTarget(cmd)
	svc.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&configPath, "config", "", "new workflow config file")
	fl.StringVar(&sched, "schedule", "", "new schedule: 1d to 30d")
	fl.BoolVar(&runNow, "run-immediately", false, "start a cycle now (alone: run the workflow now)")
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newWorkflowDeleteCommand(s *streams) *cobra.Command {
	var (
		wf  workflowFlags
		svc serviceFlags
		yes bool
	)
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete a workflow, its queued and running tasks and its stored config",
		Long: `Delete cancels the workflow's queued and running tasks, deletes its config
from csscpolicies/patchpolicy and removes the workflow. Patched images stay.
It asks for confirmation unless -y is given.` + serviceHelp,
		Example: `  patchloop workflow delete -r localhost:5000 -t continuouspatchv1
  patchloop workflow delete -r localhost:5000 -t continuouspatchv1 -y`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, err := wf.check()
			if err != nil {
				return err
			}
			if !yes {
				ok, err := confirm(s, fmt.Sprintf("Are you sure you want to delete the workflow %s from registry %s? (y/N): ", wf.typ, host))
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("operation canceled: the %s workflow of registry %s was not deleted", wf.typ, host)
				}
			}
			api, err := svc.service()
			if err != nil {
				return err
			}
			res, err := api.Delete(cmd.Context(), host, wf.typ)
			if err != nil {
				return explain(err, host, wf.typ)
			}
			if _, err = fmt.Fprintf(s.out, "Deleted %s workflow successfully from registry %s\n", wf.typ, host); err != nil {
				return err
			}
			if res != nil && res.PolicyRepositoryKept != "" {
				fmt.Fprintf(s.err, "Note: %s.\n", res.PolicyRepositoryKept)
			}
			return nil
		},
	}
	wf.registerTarget(cmd)
	svc.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// confirm asks a yes/no question on stderr and reads the answer from stdin;
// anything but y or yes is no.
func confirm(s *streams, question string) (bool, error) {
	fmt.Fprint(s.err, question)
	answer, err := bufio.NewReader(s.in).ReadString('\n')
	if err != nil && answer == "" {
		fmt.Fprintln(s.err)
		if errors.Is(err, io.EOF) {
			return false, usagef("no answer on standard input: pass -y to delete without asking")
		}
		return false, fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

func newWorkflowCancelRunCommand(s *streams) *cobra.Command {
	var (
		wf     workflowFlags
		svc    serviceFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "cancel-run",
		Short: "Cancel the workflow's queued and running tasks",
		Long: `Cancel-run cancels every task of the workflow that is queued, started or
running. Only the current cycle is affected: the next cycle runs on schedule.` + serviceHelp,
		Example: `  patchloop workflow cancel-run -r localhost:5000 -t continuouspatchv1`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, format, err := wf.checkOutput(output)
			if err != nil {
				return err
			}
			api, err := svc.service()
			if err != nil {
				return err
			}
			n, err := api.CancelRuns(cmd.Context(), host, wf.typ)
			if err != nil {
				return explain(err, host, wf.typ)
			}
			if format == outputJSON {
				return writeJSON(s.out, map[string]int{"canceled": n})
			}
			_, err = fmt.Fprintf(s.out, "Canceled %d queued or running task runs of the %s workflow in registry %s.\n", n, wf.typ, host)
			return err
		},
	}
	wf.registerTarget(cmd)
	svc.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
