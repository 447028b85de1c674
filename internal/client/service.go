package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/patchloop/patchloop/internal/api"
)

// Create creates a workflow on the service.
func (c *Client) Create(ctx context.Context, req api.CreateRequest) (*api.Workflow, error) {
	var wf api.Workflow
	if err := c.do(ctx, http.MethodPost, "/v1/workflows", nil, req, &wf); err != nil {
		return nil, err
	}
	return &wf, nil
}

// Update changes a workflow's config and/or schedule on the service.
func (c *Client) Update(ctx context.Context, req api.UpdateRequest) (*api.Workflow, error) {
	var wf api.Workflow
	if err := c.do(ctx, http.MethodPatch, workflowPath(req.Registry, req.Type), nil, req, &wf); err != nil {
		return nil, err
	}
	return &wf, nil
}

// Workflows lists the workflows of every registry.
func (c *Client) Workflows(ctx context.Context) ([]api.Workflow, error) {
	var wfs []api.Workflow
	if err := c.do(ctx, http.MethodGet, "/v1/workflows", nil, nil, &wfs); err != nil {
		return nil, err
	}
	return wfs, nil
}

// Get returns a api.
func (c *Client) Get(ctx context.Context, registry, typ string) (*api.Workflow, error) {
	var wf api.Workflow
	if err := c.do(ctx, http.MethodGet, workflowPath(registry, typ), nil, nil, &wf); err != nil {
		return nil, err
	}
	return &wf, nil
}

// Delete deletes a api.
func (c *Client) Delete(ctx context.Context, registry, typ string) (*api.DeleteResult, error) {
	var res api.DeleteResult
	if err := c.do(ctx, http.MethodDelete, workflowPath(registry, typ), nil, nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Images lists the per-image blocks of `workflow list` of the registry's
// continuouspatchv1 api.
func (c *Client) Images(ctx context.Context, registry, status string) ([]api.ImageStatus, error) {
	var q url.Values
	if status != "" {
		q = url.Values{"status": {status}}
	}
	var images []api.ImageStatus
	if err := c.do(ctx, http.MethodGet, workflowPath(registry, api.TypeContinuousPatchV1)+"/images", q, nil, &images); err != nil {
		return nil, err
	}
	return images, nil
}

// CancelRuns cancels the workflow's queued, started and running task runs.
func (c *Client) CancelRuns(ctx context.Context, registry, typ string) (int, error) {
	var resp api.CancelResponse
	if err := c.do(ctx, http.MethodPost, workflowPath(registry, typ)+"/cancel", nil, nil, &resp); err != nil {
		return 0, err
	}
	return resp.Canceled, nil
}

// Runs lists task runs, newest first.
func (c *Client) Runs(ctx context.Context, f api.RunFilter) ([]api.Run, error) {
	q := url.Values{}
	for k, v := range map[string]string{"registry": f.Registry, "task": f.Task, "status": string(f.Status)} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Top > 0 {
		q.Set("top", strconv.Itoa(f.Top))
	}
	var runs []api.Run
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
