package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/workflow"
)

func newTaskCommand(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Inspect the runs of the workflow tasks (trigger, scan, patch)",
	}
	cmd.AddCommand(newTaskListRunsCommand(s), newTaskLogsCommand(s))
	return cmd
}

// taskNames are the tasks a workflow runs, as the reference names them.
var taskNames = []string{workflow.TaskTrigger, workflow.TaskScan, workflow.TaskPatch}

func newTaskListRunsCommand(s *streams) *cobra.Command {
	var (
		registry  string
		name      string
		runStatus string
		top       int
		output    string
		svc       serviceFlags
	)
	cmd := &cobra.Command{
		Use:   "list-runs",
		Short: "List task runs, newest first",
		Long: `List-runs prints the runs of the workflow tasks of a registry, newest first
(cssc-trigger-workflow, cssc-scan-image, cssc-patch-image). Filter by task
with --name and by state with --run-status; read a run's log with
patchloop task logs --run-id.` + serviceHelp,
		Example: `  # The last 10 failed patch runs
  patchloop task list-runs -r localhost:5000 -n cssc-patch-image --run-status Failed --top 10

  # Everything, as JSON
  patchloop task list-runs -r localhost:5000 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, err := registryHost(registry)
			if err != nil {
				return err
			}
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			f := workflow.RunFilter{Registry: host, Top: top}
			if name != "" {
				if f.Task, err = parseTaskName(name); err != nil {
					return err
				}
			}
			if runStatus != "" {
				st, ok := parseRunStatus(runStatus)
				if !ok {
					return usagef("--run-status %q: must be Queued, Started, Running, Succeeded, Failed, Canceled or Skipped", runStatus)
				}
				f.Status = st
			}
			if top < 1 {
				return usagef("--top %d: must be at least 1", top)
			}
			api, err := svc.service()
			if err != nil {
				return err
			}
			runs, err := api.Runs(cmd.Context(), f)
			if err != nil {
				return explain(err, host, workflowTypeV1)
			}
			if format == outputJSON {
				if runs == nil {
					runs = []workflow.Run{}
				}
				return writeJSON(s.out, runs)
			}
			if len(runs) == 0 {
				fmt.Fprintf(s.err, "No task runs in registry %s match.\n", host)
				return nil
			}
			return writeRunTable(s.out, runs, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&registry, "registry", "r", "", "registry host, for example localhost:5000 (required)")
	fl.StringVarP(&name, "name", "n", "", "only runs of this task: "+strings.Join(taskNames, ", "))
	fl.StringVar(&runStatus, "run-status", "", "only runs in this state: Queued, Started, Running, Succeeded, Failed, Canceled or Skipped")
	fl.IntVar(&top, "top", 15, "at most this many runs")
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	svc.register(cmd)
	return cmd
}

func parseTaskName(s string) (string, error) {
	for _, n := range taskNames {
		if strings.EqualFold(s, n) {
			return n, nil
		}
	}
	return "", usagef("--name %q: must be one of %s", s, strings.Join(taskNames, ", "))
}

// writeRunTable writes runs as the table of task list-runs.
func writeRunTable(w io.Writer, runs []workflow.Run, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "RUN ID\tTASK\tSTATUS\tIMAGE\tCREATED\tDURATION")
	for _, r := range runs {
		image := r.Image
		if image == "" {
			image = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Task, r.Status, image,
			r.CreatedAt.UTC().Format(time.RFC3339), runDuration(r, now))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write runs: %w", err)
	}
	return nil
}

// runDuration is how long a run ran (so far, while it runs), as HH:MM:SS.
func runDuration(r workflow.Run, now time.Time) string {
	if r.StartedAt == nil {
		return "-"
	}
	end := now
	if r.FinishedAt != nil {
		end = *r.FinishedAt
	}
	d := end.Sub(*r.StartedAt).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func newTaskLogsCommand(s *streams) *cobra.Command {
	var (
		registry string
		runID    string
		svc      serviceFlags
	)
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Print the log of a task run",
		Long: `Logs prints the full log of one task run; find run IDs with
patchloop task list-runs.` + serviceHelp,
		Example: `  patchloop task logs -r localhost:5000 --run-id ab12cd`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if registry != "" {
				if _, err := registryHost(registry); err != nil {
					return err
				}
			}
			if strings.TrimSpace(runID) == "" {
				return usagef("--run-id is required: the ID of a run, as task list-runs shows it")
			}
			api, err := svc.service()
			if err != nil {
				return err
			}
			log, err := api.RunLog(cmd.Context(), strings.TrimSpace(runID))
			if err != nil {
				if errors.Is(err, workflow.ErrRunNotFound) {
					return fmt.Errorf("no task run with ID %q: find run IDs with `patchloop task list-runs`: %w", runID, err)
				}
				return err
			}
			if log != "" && !strings.HasSuffix(log, "\n") {
				log += "\n"
			}
			_, err = io.WriteString(s.out, log)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&registry, "registry", "r", "", "registry host (optional: run IDs are unique)")
	fl.StringVar(&runID, "run-id", "", "the run's ID (required)")
	svc.register(cmd)
	return cmd
}
