package workflow

import (
	"encoding/json"
	"fmt"

	"github.com/patchloop/patchloop/internal/config"
	"github.com/patchloop/patchloop/internal/redact"
	"github.com/patchloop/patchloop/internal/schedule"
	"github.com/patchloop/patchloop/internal/store"
)

// encodeResult is the stored form of a RunResult.
func encodeResult(r RunResult) []byte {
	data, err := json.Marshal(r)
	if err != nil {
		// A RunResult holds only strings, ints and maps of them.
		return []byte("{}")
	}
	return []byte(redact.String(string(data)))
}

// toRun converts a stored run.
func toRun(r *store.Run) Run {
	out := Run{
		ID:         r.ID,
		Task:       r.Task,
		Registry:   r.Registry,
		Type:       r.Type,
		Cycle:      r.Cycle,
		Image:      r.Image,
		ParentID:   r.ParentID,
		Status:     RunStatus(r.Status),
		CreatedAt:  r.CreatedAt,
		StartedAt:  r.StartedAt,
		FinishedAt: r.FinishedAt,
		Error:      r.Error,
	}
	// A result that does not decode leaves the run without one.
	_ = json.Unmarshal(r.Result, &out.Result)
	return out
}

// toWorkflow converts a stored workflow.
func toWorkflow(w *store.Workflow) (*Workflow, error) {
	sched, err := schedule.Parse(w.Schedule)
	if err != nil {
		return nil, fmt.Errorf("stored workflow %s %s: %w", w.Registry, w.Type, err)
	}
	cfg, err := config.Parse("stored config", w.Config)
	if err != nil {
		return nil, fmt.Errorf("stored workflow %s %s: %w", w.Registry, w.Type, err)
	}
	return &Workflow{
		Registry:      w.Registry,
		Type:          w.Type,
		ScheduleText:  sched.String(),
		TagConvention: string(cfg.TagConvention),
		Config:        json.RawMessage(w.Config),
		ConfigDigest:  w.ConfigDigest,
		CreatedAt:     w.CreatedAt,
		CreatedBy:     w.CreatedBy,
		UpdatedAt:     w.UpdatedAt,
		UpdatedBy:     w.UpdatedBy,
		Anchor:        w.AnchorAt,
		NextRunAt:     w.NextRunAt,
	}, nil
}
