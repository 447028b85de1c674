package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/patchloop/patchloop/internal/schedule"
	"github.com/patchloop/patchloop/internal/server"
	"github.com/patchloop/patchloop/internal/workflow"
)

// Create creates a workflow on the service.
func (c *Client) Create(ctx context.Context, req workflow.CreateRequest) (*workflow.Workflow, error) {
	var wf workflow.Workflow
	if err := c.do(ctx, http.MethodPost, "/v1/workflows", nil, req, &wf); err != nil {
		return nil, err
	}
	return withSchedule(&wf), nil
}

// Update changes a workflow's config and/or schedule on the service.
func (c *Client) Update(ctx context.Context, req workflow.UpdateRequest) (*workflow.Workflow, error) {
	var wf workflow.Workflow
	if err := c.do(ctx, http.MethodPatch, workflowPath(req.Registry, req.Type), nil, req, &wf); err != nil {
		return nil, err
	}
	return withSchedule(&wf), nil
}

// Workflows lists the workflows of every registry.
func (c *Client) Workflows(ctx context.Context) ([]workflow.Workflow, error) {
	var wfs []workflow.Workflow
	if err := c.do(ctx, http.MethodGet, "/v1/workflows", nil, nil, &wfs); err != nil {
		return nil, err
	}
	for i := range wfs {
		withSchedule(&wfs[i])
	}
	return wfs, nil
}

// Get returns a workflow.
func (c *Client) Get(ctx context.Context, registry, typ string) (*workflow.Workflow, error) {
	var wf workflow.Workflow
	if err := c.do(ctx, http.MethodGet, workflowPath(registry, typ), nil, nil, &wf); err != nil {
		return nil, err
	}
	return withSchedule(&wf), nil
}

// Delete deletes a workflow.
func (c *Client) Delete(ctx context.Context, registry, typ string) (*workflow.DeleteResult, error) {
	var res workflow.DeleteResult
	if err := c.do(ctx, http.MethodDelete, workflowPath(registry, typ), nil, nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Images lists the per-image blocks of `workflow list` of the registry's
// continuouspatchv1 workflow.
func (c *Client) Images(ctx context.Context, registry, status string) ([]workflow.ImageStatus, error) {
	var q url.Values
	if status != "" {
		q = url.Values{"status": {status}}
	}
	var images []workflow.ImageStatus
	if err := c.do(ctx, http.MethodGet, workflowPath(registry, workflow.TypeContinuousPatchV1)+"/images", q, nil, &images); err != nil {
		return nil, err
	}
	return images, nil
}

// CancelRuns cancels the workflow's queued, started and running task runs.
func (c *Client) CancelRuns(ctx context.Context, registry, typ string) (int, error) {
	var resp server.CancelResponse
	if err := c.do(ctx, http.MethodPost, workflowPath(registry, typ)+"/cancel", nil, nil, &resp); err != nil {
		return 0, err
	}
	return resp.Canceled, nil
}

// Runs lists task runs, newest first.
func (c *Client) Runs(ctx context.Context, f workflow.RunFilter) ([]workflow.Run, error) {
	q := url.Values{}
	for k, v := range map[string]string{"registry": f.Registry, "task": f.Task, "status": string(f.Status)} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Top > 0 {
		q.Set("top", strconv.Itoa(f.Top))
	}
	var runs []workflow.Run
	if err := c.do(ctx, http.MethodGet, "/v1/runs", q, nil, &runs); err != nil {
		return nil, err
	}
	return runs, nil
}

// RunLog returns a run's full log.
func (c *Client) RunLog(ctx context.Context, id string) (string, error) {
	var log string
	if err := c.do(ctx, http.MethodGet, "/v1/runs/"+escape(id)+"/log", nil, nil, &log); err != nil {
		return "", err
	}
	return log, nil
}

func workflowPath(registry, typ string) string {
	return "/v1/workflows/" + escape(registry) + "/" + escape(typ)
}

// withSchedule fills the Schedule the wire format leaves out (it carries
// ScheduleText only).
func withSchedule(wf *workflow.Workflow) *workflow.Workflow {
	if s, err := schedule.Parse(wf.ScheduleText); err == nil {
		wf.Schedule = s
	}
	return wf
}
