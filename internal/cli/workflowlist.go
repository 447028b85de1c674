package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/listfmt"
	"github.com/patchloop/patchloop/internal/workflow"
)

func newWorkflowListCommand(s *streams) *cobra.Command {
	var (
		wf        workflowFlags
		svc       serviceFlags
		runStatus string
		output    string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the latest scan and patch of every image of a workflow",
		Long: `List prints one block per image the workflow covers: the status, date and
task ID of its latest scan and patch, why a patch was skipped or failed, and
its last patched image. Skipped patches (nothing fixable) count as
successful. --run-status keeps only images whose scan or patch failed,
succeeded or is running. -o json prints the same as an array.

Without -r, list shows every registry's workflow: a "registry: HOST" line
before each one's blocks (-o json: an array of {registry, type, images}).` + serviceHelp,
		Example: `  patchloop workflow list -r localhost:5000 -t continuouspatchv1
  patchloop workflow list -r localhost:5000 --run-status failed
  patchloop workflow list -r localhost:5000 -o json
  patchloop workflow list                      # every registry's workflow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if wf.registry == "" {
				return listAll(cmd, s, &wf, &svc, runStatus, output)
			}
			host, format, err := wf.checkOutput(output)
			if err != nil {
				return err
			}
			status, err := parseListStatus(runStatus)
			if err != nil {
				return err
			}
			api, err := svc.service()
			if err != nil {
				return err
			}
			images, err := api.Images(cmd.Context(), host, status)
			if err != nil {
				return explain(err, host, wf.typ)
			}
			if format == outputJSON {
				if images == nil {
					images = []workflow.ImageStatus{}
				}
				return writeJSON(s.out, images)
			}
			trigger := failedTrigger(cmd.Context(), api, host, status)
			if trigger != nil {
				if _, err := io.WriteString(s.out, listfmt.TriggerBlock(trigger)); err != nil {
					return err
				}
			}
			if len(images) == 0 && trigger == nil {
				msg := fmt.Sprintf("No images have run in the %s workflow of registry %s yet.", wf.typ, host)
				if status != "" {
					msg = fmt.Sprintf("No image of the %s workflow of registry %s has run status %s.", wf.typ, host, runStatus)
				}
				fmt.Fprintln(s.err, msg)
				return nil
			}
			return listfmt.Write(s.out, images)
		},
	}
	wf.registerTarget(cmd)
	cmd.Flags().Lookup("registry").Usage = "registry host, for example localhost:5000 (default: every registry's workflow)"
	svc.register(cmd)
	cmd.Flags().StringVar(&runStatus, "run-status", "", "only images whose runs are: failed, successful or running (or queued, canceled, skipped)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// registryImages is one workflow's images in workflow list -o json without -r.
type registryImages struct {
	Registry string                 `json:"registry"`
	Type     string                 `json:"type"`
	Images   []workflow.ImageStatus `json:"images"`
}

// listAll is workflow list without -r: every registry's workflow.
func listAll(cmd *cobra.Command, s *streams, wf *workflowFlags, svc *serviceFlags, runStatus, output string) error {
	if wf.typ != workflowTypeV1 {
		return usagef("--type %q: the only workflow type is %s", wf.typ, workflowTypeV1)
	}
	format, err := parseOutput(output)
	if err != nil {
		return err
	}
	status, err := parseListStatus(runStatus)
	if err != nil {
		return err
	}
	api, err := svc.service()
	if err != nil {
		return err
	}
	wfs, err := api.Workflows(cmd.Context())
	if err != nil {
		return explain(err, "", wf.typ)
	}
	all := []registryImages{}
	for _, w := range wfs {
		if w.Type != wf.typ {
			continue
		}
		images, err := api.Images(cmd.Context(), w.Registry, status)
		if err != nil {
			return explain(err, w.Registry, w.Type)
		}
		if images == nil {
			images = []workflow.ImageStatus{}
		}
		all = append(all, registryImages{Registry: w.Registry, Type: w.Type, Images: images})
	}
	if format == outputJSON {
		return writeJSON(s.out, all)
	}
	if len(all) == 0 {
		fmt.Fprintln(s.err, "No workflows yet: create one with `patchloop workflow create -r REGISTRY --config FILE --schedule 1d`.")
		return nil
	}
	for _, r := range all {
		fmt.Fprintf(s.out, "registry: %s\n", r.Registry)
		if len(r.Images) == 0 {
			fmt.Fprintln(s.out, "        (no image has run yet)")
			continue
		}
		if err := listfmt.Write(s.out, r.Images); err != nil {
			return err
		}
	}
	return nil
}

// failedTrigger returns the registry's latest trigger run when it failed
// and the list's status filter keeps failures, else nil. Listing it is
// best effort: an error leaves it out.
func failedTrigger(ctx context.Context, api workflow.Service, host, status string) *workflow.Run {
	if status != "" && !strings.EqualFold(status, "failed") {
		return nil
	}
	runs, err := api.Runs(ctx, workflow.RunFilter{Registry: host, Task: workflow.TaskTrigger, Top: 1})
	if err != nil || len(runs) == 0 || runs[0].Status != workflow.StatusFailed {
		return nil
	}
	return &runs[0]
}

// parseListStatus checks --run-status of workflow list: the reference's
// failed, successful and running, or a run state; case does not matter.
func parseListStatus(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "":
		return "", nil
	case "failed", "successful", "running":
		return v, nil
	case "succeeded", "success":
		return "successful", nil
	}
	if st, ok := parseRunStatus(s); ok {
		return string(st), nil
	}
	return "", usagef("--run-status %q: must be failed, successful or running (or queued, canceled, skipped)", s)
}

// parseRunStatus reads a run state in any case.
func parseRunStatus(s string) (workflow.RunStatus, bool) {
	for _, st := range []workflow.RunStatus{workflow.StatusQueued, workflow.StatusStarted, workflow.StatusRunning,
		workflow.StatusSucceeded, workflow.StatusFailed, workflow.StatusCanceled, workflow.StatusSkipped} {
		if strings.EqualFold(strings.TrimSpace(s), string(st)) {
			return st, true
		}
	}
	return "", false
}

func newWorkflowShowCommand(s *streams) *cobra.Command {
	var (
		wf     workflowFlags
		svc    serviceFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show a workflow: schedule, config, next run, who created and changed it",
		Long: `Show prints a workflow's type, registry and schedule, when and by whom it was
created and last modified, when it runs next, its tag convention and its
config as the service stores it.` + serviceHelp,
		Example: `  patchloop workflow show -r localhost:5000 -t continuouspatchv1
  patchloop workflow show -r localhost:5000 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, format, err := wf.checkOutput(output)
			if err != nil {
				return err
			}
			api, err := svc.service()
			if err != nil {
				return err
			}
			w, err := api.Get(cmd.Context(), host, wf.typ)
			if err != nil {
				return explain(err, host, wf.typ)
			}
			if format == outputJSON {
				return writeJSON(s.out, w)
			}
			_, err = fmt.Fprint(s.out, showText(w))
			return err
		},
	}
	wf.registerTarget(cmd)
	svc.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// showText is the text of workflow show.
func showText(w *workflow.Workflow) string {
	var b strings.Builder
	row := func(label, value string) { fmt.Fprintf(&b, "%-16s %s\n", label+":", value) }
	row("Workflow type", w.Type)
	row("Registry", w.Registry)
	row("Schedule", "every "+w.ScheduleText)
	row("Created", byWhom(utcTime(w.CreatedAt), w.CreatedBy))
	row("Last modified", byWhom(utcTime(w.UpdatedAt), w.UpdatedBy))
	row("Next run", utcTime(w.NextRunAt))
	row("Tag convention", string(w.TagConvention))
	if w.ConfigDigest != "" {
		row("Config artifact", workflow.PolicyRepository+"@"+w.ConfigDigest)
	}
	b.WriteString("Config:\n")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, w.Config, "  ", "  "); err != nil {
		pretty.Reset()
		pretty.Write(w.Config)
	}
	b.WriteString("  " + strings.TrimRight(pretty.String(), "\n") + "\n")
	return b.String()
}

func byWhom(when, who string) string {
	if who == "" {
		return when
	}
	return when + " by " + who
}
